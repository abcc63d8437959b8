"""One conversation as a FHIR Bundle (type collection), for the clinic's record system.

    Patient (telecom only) <- Encounter (class VR: the text or call, its period, why, the disposition)
    <- QuestionnaireResponse (against the Questionnaire version the conversation ran on, which is in the Bundle)
    <- a Flag per red flag, a Communication per message and call, a Task per nurse case (status, owner, notes)
    and a DocumentReference for the nurse's resolution note; the nurses as Practitioners, the line as a Device.

Every reference is to an entry of the Bundle (a stable urn:uuid), so the Bundle stands on its own.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime

from ..dashboard.queue import DISPOSITION_WORDS, STATUS_WORDS
from ..engine.flow import LEVEL_WORDS, Level
from ..models import Escalation, Message
from ..services import Services
from ..statuses import OPEN_STATUSES, CaseStatus
from .fhir import FLAG_PRIORITY, ORIGINAL_TEXT, Addresses, Resource, checked, dumps, instant
from .questionnaire import (
    answers_system,
    canonical,
    questionnaire,
    questionnaire_id,
    red_flag_extension,
    red_flags_system,
)
from .store import ConversationRecord, summary_of
from .summary import FlagLine, Summary

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_PRIORITY = "http://terminology.hl7.org/CodeSystem/v3-ActPriority"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY_CODES = "http://hl7.org/fhir/flag-priority-code"
ENCOUNTER_STATUS = {"active": "in-progress", "done": "finished"}  # expired or stopped: finished too
RESPONSE_STATUS = {"active": "in-progress", "done": "completed"}  # expired or stopped: stopped
TASK_STATUS = {CaseStatus.open: "requested", CaseStatus.paged: "requested", CaseStatus.acknowledged: "accepted",
               CaseStatus.resolved: "completed"}
# How urgent, in the terms of each resource: the Encounter (ActPriority), the Task, the Flag (flag-priority).
ENCOUNTER_PRIORITY = {"emergency": ("EM", "emergency"), "nurse_callback": ("UR", "urgent"),
                      "clinic_queue": ("R", "routine"), "self_care": ("R", "routine")}
TASK_PRIORITY = {Level.call_911_now: "stat", Level.ed_now: "stat", Level.seen_today: "asap",
                 Level.seen_within_24h: "urgent", Level.seen_within_3_days: "routine", Level.home_care: "routine"}
FLAG_URGENCY = {"emergency": ("PH", "High priority"), "nurse_callback": ("PM", "Medium priority"),
                "clinic_queue": ("PL", "Low priority"), "self_care": ("PL", "Low priority")}
SENT, WAITING = ("sent", "delivered", "received", "twiml", "read"), ("queued", "sending", "retry", "offered")
TASK_WORDS = {"emergency": "Emergency: nurse follow-up now", "nurse_callback": "Nurse callback",
              "clinic_queue": "Clinic to book a visit"}


class _Entries:
    def __init__(self, addresses: Addresses) -> None:
        self.addresses = addresses
        self.entries: list[Resource] = []
        self._people: dict[str, str] = {}

    def add(self, kind: str, key: object, resource: Resource, full_url: str | None = None) -> dict[str, str]:
        url = full_url or self.addresses.entry(kind, key)
        self.entries.append({"fullUrl": url, "resource": resource})
        return {"reference": url}

    def person(self, name: str, username: str | None = None) -> dict[str, str]:
        """A nurse, once per Bundle, by the name the clinic knows them by."""
        if name not in self._people:
            practitioner: Resource = {"resourceType": "Practitioner", "name": [{"text": name}]}
            if username:
                practitioner["identifier"] = [{"system": self.addresses.identifier("user"), "value": username}]
            self._people[name] = self.add("Practitioner", name, practitioner)["reference"]
        return {"reference": self._people[name], "display": name}


def bundle(record: ConversationRecord, summary: Summary, addresses: Addresses, now: datetime,
           context: Mapping[str, str] | None = None) -> Resource:
    context = context or {}
    conversation, loaded = record.conversation, record.loaded
    entries = _Entries(addresses)
    patient = entries.add("Patient", record.patient.id, _patient(record))
    device = entries.add("Device", "line", {"resourceType": "Device", "deviceName": [
        {"name": f"{context.get('clinic_name') or 'Clinic'} nurse line (automated triage)",
         "type": "user-friendly-name"}]})
    entries.add("Questionnaire", questionnaire_id(loaded), questionnaire(loaded, addresses, context),
                full_url=f"{addresses.base}/Questionnaire/{questionnaire_id(loaded)}")
    encounter = entries.add("Encounter", conversation.id, _encounter(record, summary, addresses, patient))
    response = entries.add("QuestionnaireResponse", conversation.id,
                           _response(record, summary, addresses, patient, encounter))
    open_case = any(case.status in OPEN_STATUSES for case in record.cases)
    for flag in summary.red_flags:
        entries.add("Flag", f"{conversation.id}/{flag.flag}",
                    _flag(record, flag, summary, addresses, patient, encounter, device, open_case))
    for case in record.cases:
        _case(entries, record, case, patient, encounter, response, device)
    for message in record.messages:
        entries.add("Communication", message.id, _communication(entries, record, message, summary, patient,
                                                                 encounter, device))
    resource: Resource = {
        "resourceType": "Bundle", "type": "collection", "timestamp": instant(now),
        "identifier": {"system": addresses.identifier("conversation"), "value": str(conversation.id)},
        "entry": entries.entries}
    return checked(resource)


def export_text(svc: Services, record: ConversationRecord) -> str:
    """The conversation's Bundle as the CLI writes it and the case page downloads it."""
    return dumps(bundle(record, summary_of(svc, record), Addresses(svc.settings.fhir_base), svc.clock(), svc.context))


def _patient(record: ConversationRecord) -> Resource:
    """Telecom only: the line knows a number, not a name (a hidden number: nothing at all)."""
    patient: Resource = {"resourceType": "Patient"}
    if record.patient.phone:
        patient["telecom"] = [{"system": "phone", "value": record.patient.phone, "use": "mobile"}]
    return patient


def _encounter(record: ConversationRecord, summary: Summary, addresses: Addresses, patient: dict[str, str]
               ) -> Resource:
    conversation = record.conversation
    done = conversation.status != "active"
    how = "a phone call" if conversation.channel == "voice" else "text messages"
    encounter: Resource = {
        "resourceType": "Encounter",
        "identifier": [{"system": addresses.identifier("conversation"), "value": str(conversation.id)}],
        "status": ENCOUNTER_STATUS.get(conversation.status, "finished"),
        "class": {"system": ACT_CODE, "code": "VR", "display": "virtual"},
        "type": [{"text": f"Nurse-line triage by {how}"}],
        "subject": patient,
        "period": {"start": instant(conversation.started_at), **({"end": instant(conversation.updated_at)}
                                                                   if done else {})},
        "reasonCode": [{"text": summary.flow_title}] + [{"text": case.reason} for case in record.cases if case.reason],
    }
    if summary.level is not None:
        code, display = ENCOUNTER_PRIORITY[summary.level.disposition]
        encounter["priority"] = {"coding": [{"system": ACT_PRIORITY, "code": code, "display": display}]}
        encounter["extension"] = [{"url": addresses.extension("triage-disposition"), "valueCodeableConcept": {
            "coding": [{"system": addresses.code_system("triage-level"), "code": summary.level.value,
                        "display": LEVEL_WORDS[summary.level]}],
            "text": f"{LEVEL_WORDS[summary.level]} ({DISPOSITION_WORDS.get(summary.level.disposition, '')})"
                    + (f": {summary.outcome}" if summary.outcome else "")}}]
    return encounter


def _response(record: ConversationRecord, summary: Summary, addresses: Addresses, patient: dict[str, str],
              encounter: dict[str, str]) -> Resource:
    flow = record.loaded.flow
    items = []
    for answer in summary.answers:
        value: Resource = ({"valueString": answer.value} if answer.free else {"valueCoding": {
            "system": answers_system(addresses, flow), "code": answer.value, "display": answer.display}})
        if answer.words and not answer.free:  # the patient's own words ("nope", "pressed 2")
            value["extension"] = [{"url": ORIGINAL_TEXT, "valueString": answer.words}]
        items.append({"linkId": answer.node, "text": answer.question, "answer": [value]})
    response: Resource = {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": addresses.identifier("conversation"), "value": str(record.conversation.id)},
        "questionnaire": canonical(addresses, record.loaded),
        "status": RESPONSE_STATUS.get(record.conversation.status, "stopped"),
        "subject": patient, "encounter": encounter, "authored": instant(record.conversation.updated_at),
        "source": patient}
    if items:
        response["item"] = items
    return response


def _flag(record: ConversationRecord, line: FlagLine, summary: Summary, addresses: Addresses, patient: dict[str, str],
          encounter: dict[str, str], device: dict[str, str], open_case: bool) -> Resource:
    flow = record.loaded.flow
    found = [e for e in summary.exchanges if any(ev.exchange == e.number for ev in line.found)]
    start = found[0].at if found else record.conversation.started_at
    code: Resource = {"coding": [{"system": red_flags_system(addresses, flow), "code": line.flag,
                                  "display": line.label}], "text": line.label}
    words = " / ".join(dict.fromkeys(evidence.said for evidence in line.found if evidence.said))
    if words:
        code["extension"] = [{"url": ORIGINAL_TEXT, "valueString": words}]
    priority, display = FLAG_URGENCY[line.level.disposition]
    return {
        "resourceType": "Flag", "status": "active" if open_case or record.conversation.status == "active"
        else "inactive",
        "extension": [red_flag_extension(addresses, line.flag, flow.red_flags[line.flag]),
                      {"url": FLAG_PRIORITY, "valueCodeableConcept": {"coding": [
                          {"system": FLAG_PRIORITY_CODES, "code": priority, "display": display}]}}],
        "category": [{"coding": [{"system": FLAG_CATEGORY, "code": "clinical", "display": "Clinical"}]}],
        "code": code, "subject": patient, "period": {"start": instant(start)}, "encounter": encounter,
        "author": device}


def _case(entries: _Entries, record: ConversationRecord, case: Escalation, patient: dict[str, str],
          encounter: dict[str, str], response: dict[str, str], device: dict[str, str]) -> None:
    level = Level(case.level)
    task: Resource = {
        "resourceType": "Task",
        "identifier": [{"system": entries.addresses.identifier("case"), "value": str(case.id)}],
        "status": TASK_STATUS.get(case.status, "requested"), "businessStatus": {"text": STATUS_WORDS.get(
            case.status, case.status)},
        "intent": "order", "priority": TASK_PRIORITY[level],
        "code": {"text": TASK_WORDS.get(case.disposition, "Nurse callback")},
        "description": f"Case {case.id} ({LEVEL_WORDS[level]}): {case.reason}",
        "focus": response, "for": patient, "encounter": encounter, "requester": device,
        "authoredOn": instant(case.created_at), "lastModified": instant(case.updated_at)}
    if case.acknowledged_by:
        task["owner"] = entries.person(record.staff.get(case.acknowledged_by, case.acknowledged_by),
                                       case.acknowledged_by if case.acknowledged_by in record.users else None)
    if case.acknowledged_at:
        task["executionPeriod"] = {"start": instant(case.acknowledged_at),
                                   **({"end": instant(case.resolved_at)} if case.resolved_at else {})}
    notes = [{"text": event.detail, "time": instant(event.at),
              "authorReference": entries.person(record.staff.get(event.actor, event.actor))}
             for event in record.events if event.escalation_id == case.id and event.event == "note" and event.detail]
    if notes:
        task["note"] = notes
    if case.note:
        task["output"] = [{"type": {"text": "resolution note"},
                           "valueReference": _resolution(entries, record, case, patient, encounter)}]
    entries.add("Task", case.id, task)


def _resolution(entries: _Entries, record: ConversationRecord, case: Escalation, patient: dict[str, str],
                encounter: dict[str, str]) -> dict[str, str]:
    resolved = next((e for e in reversed(record.events) if e.escalation_id == case.id and e.event == "resolved"), None)
    author = entries.person(record.staff.get(resolved.actor, resolved.actor)) if resolved else None
    note = case.note or ""
    document: Resource = {
        "resourceType": "DocumentReference", "status": "current", "docStatus": "final",
        "type": {"text": "Nurse's resolution note"}, "description": f"Case {case.id} resolved",
        "subject": patient, "date": instant(case.resolved_at or case.updated_at),
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8", "language": "en",
                                    "data": base64.b64encode(note.encode("utf-8")).decode("ascii"),
                                    "title": f"Case {case.id}: resolution note",
                                    "creation": instant(case.resolved_at or case.updated_at)}}],
        "context": {"encounter": [encounter]}}
    if author is not None:
        document["author"] = [author]
    return entries.add("DocumentReference", case.id, document)


def _communication(entries: _Entries, record: ConversationRecord, message: Message, summary: Summary,
                   patient: dict[str, str], encounter: dict[str, str], device: dict[str, str]) -> Resource:
    said = next(s for s in record.said if s.id == message.id)
    staff_name = record.staff.get((message.from_phone if message.direction == "in" else message.to_phone) or "")
    staff = entries.person(staff_name or "staff") if not said.with_patient else None
    if message.direction == "in":
        sender, recipient = (patient if said.with_patient else staff), device
    else:
        sender, recipient = device, (patient if said.with_patient else staff)
    status = ("completed" if message.status in SENT or message.direction == "in" else
              "in-progress" if message.status in WAITING else "not-done")
    voice = message.channel == "voice"
    communication: Resource = {
        "resourceType": "Communication",
        "identifier": [{"system": entries.addresses.identifier("message"), "value": str(message.id)}],
        "status": status, "category": [{"text": message.kind.replace("_", " ")}],
        "medium": [{"coding": [{"system": PARTICIPATION_MODE, "code": "PHONE" if voice else "WRITTEN",
                                "display": "telephone" if voice else "written"}],
                    "text": "phone call" if voice else "SMS"}],
        "subject": patient, "encounter": encounter, "sender": sender, "recipient": [recipient],
        "language": summary.language if said.with_patient else "en"}
    communication["sent" if message.direction == "out" else "received"] = instant(message.sent_at or message.created_at)
    if status == "not-done":
        communication["statusReason"] = {"text": message.status}
    if message.kind == "voicemail":
        communication["payload"] = [{"contentAttachment": {"url": message.body, "title": "Voicemail recording"}}]
    elif message.body:
        communication["payload"] = [{"contentString": message.body}]
    return communication
