"""What changed between two versions of a flow, in words a clinician signing off can check."""

from __future__ import annotations

from .flow import Flow, Question
from .redflags import key_words
from .typos import shadowed


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
    changes += _key_word_changes(old, new)
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


def _key_word_changes(old: Flow, new: Flow) -> list[str]:
    """A word added to a phrase joins the words misspellings are corrected toward, and can take corrections from
    one already there ("dormi\\w*" stopped "dormías" being read as the saddle phrase's "dormidas"): named for the
    reviewer, with the corpus (`flows corpus`) as the check."""
    before, after = key_words(old), key_words(new)
    changes = []
    for entry in sorted(after - before):
        taken = [word for word in shadowed(entry, after) if word in before]
        if taken:
            how = "begun by" if entry.endswith("*") else "near"
            changes.append(f"key word added: {entry} ({how} {', '.join(taken)}: their misspellings may no longer "
                           f"be read as them)")
    return changes
