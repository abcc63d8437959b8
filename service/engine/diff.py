"""What changed between two versions of a flow, in words a clinician signing off can check."""

from __future__ import annotations

from .flow import Flow, Question


def _answers(flow: Flow) -> dict[tuple[str, str], tuple[str, str | None]]:
    return {(node_id, c.id): (c.next, c.red_flag) for node_id, node in flow.nodes.items()
            if isinstance(node, Question) for c in node.choices}


def diff_flows(old: Flow, new: Flow) -> list[str]:
    changes = [f"node added: {n}" for n in sorted(set(new.nodes) - set(old.nodes))]
    changes += [f"node removed: {n}" for n in sorted(set(old.nodes) - set(new.nodes))]
    changes += [f"red flag added: {f} ({new.red_flags[f].level.value})"
                for f in sorted(set(new.red_flags) - set(old.red_flags))]
    changes += [f"red flag removed: {f}" for f in sorted(set(old.red_flags) - set(new.red_flags))]
    for flag_id in sorted(set(old.red_flags) & set(new.red_flags)):
        before, after = old.red_flags[flag_id], new.red_flags[flag_id]
        if before.level != after.level:
            changes.append(f"red flag {flag_id}: level {before.level.value} -> {after.level.value}")
        if before.phrases != after.phrases:
            changes.append(f"red flag {flag_id}: phrases changed")
        if before.source != after.source:
            changes.append(f"red flag {flag_id}: source changed")
    old_answers, new_answers = _answers(old), _answers(new)
    for key in sorted(set(old_answers) & set(new_answers)):
        (old_next, old_flag), (new_next, new_flag) = old_answers[key], new_answers[key]
        if old_flag != new_flag:
            changes.append(f"answer {key[0]}/{key[1]}: red flag {old_flag} -> {new_flag}")
        if old_next != new_next:
            changes.append(f"answer {key[0]}/{key[1]}: goes to {old_next} -> {new_next}")
    for node_id in sorted(set(old.nodes) & set(new.nodes)):
        before, after = old.nodes[node_id], new.nodes[node_id]
        if getattr(before, "level", None) != getattr(after, "level", None):
            changes.append(f"outcome {node_id}: level {before.level.value} -> {after.level.value}")  # type: ignore[union-attr]
        elif before.text != after.text:
            changes.append(f"node {node_id}: wording changed")
    return changes
