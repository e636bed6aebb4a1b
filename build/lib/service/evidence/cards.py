"""Model cards in the forms people publish them, mapped onto mlgate's card
(schemas/model_card.schema.json).

Accepted forms, looked for in this order in a folder of artifacts:

1. `model_card.yaml` / `model_card.yml` / `model_card.json` in mlgate's own form;
2. `model_card.json` in Model Card Toolkit's form (a `model_details` object: overview,
   owners, version; `considerations`: use_cases, limitations, ethical_considerations;
   `model_parameters.data`: the datasets);
3. a Hugging Face `README.md`: YAML front matter (mlgate's fields may be given there:
   risk_tier, protected_attributes, owner, monitoring_plan) and the markdown sections of the
   Hugging Face card template ("Uses", "Bias, Risks, and Limitations", "Training Data",
   "Evaluation", ...).

What a form lacks stays absent: the schema check then denies naming each missing field.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

CARD_FORMS = (
    "model_card.yaml / model_card.yml / model_card.json (mlgate's card)",
    "model_card.json (Model Card Toolkit)",
    "README.md (Hugging Face card: YAML front matter and its sections)",
)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n(.*)\Z", re.S)
# Hugging Face card template section titles (lower case) -> mlgate card field.
_HF_SECTIONS = {
    "model description": "description",
    "model details": "description",
    "uses": "intended_use",
    "intended uses & limitations": "intended_use",
    "intended uses": "intended_use",
    "direct use": "intended_use",
    "out-of-scope use": "out_of_scope_uses",
    "bias, risks, and limitations": "limitations",
    "limitations": "limitations",
    "ethical considerations": "ethical_considerations",
    "training data": "training_data",
    "evaluation data": "evaluation_data",
    "testing data": "evaluation_data",
    "monitoring": "monitoring_plan",
}
_MLGATE_FIELDS = ("risk_tier", "protected_attributes", "owner", "monitoring_plan", "version")


def read_card(root: Path) -> dict[str, Any] | None:
    """The card found in `root` in one of CARD_FORMS, as mlgate card fields; None if none."""
    for name in ("model_card.yaml", "model_card.yml", "model_card.json"):
        path = root / name
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            document = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
            if isinstance(document, dict) and "model_details" in document:
                return from_model_card_toolkit(document)
            return document if isinstance(document, dict) else None
    readme = root / "README.md"
    if readme.is_file():
        return from_hugging_face(readme.read_text(encoding="utf-8"))
    return None


def from_model_card_toolkit(document: dict[str, Any]) -> dict[str, Any]:
    """A Model Card Toolkit JSON card (its schema v0.0.2 field names) as mlgate fields."""
    details = document.get("model_details") or {}
    considerations = document.get("considerations") or {}
    card: dict[str, Any] = {}
    if details.get("name"):
        card["name"] = details["name"]
    if (details.get("version") or {}).get("name"):
        card["version"] = str(details["version"]["name"])
    if details.get("overview"):
        card["description"] = details["overview"]
    owners = details.get("owners") or []
    if owners:
        card["owner"] = {"team": owners[0].get("name"), "contact": owners[0].get("contact")}
    for key, target in (
        ("use_cases", "intended_use"),
        ("limitations", "limitations"),
    ):
        text = _joined(considerations.get(key), "description")
        if text:
            card[target] = text
    ethical = [
        f"{risk.get('name')}: {risk.get('mitigation_strategy')}"
        if risk.get("mitigation_strategy")
        else str(risk.get("name"))
        for risk in considerations.get("ethical_considerations") or []
    ]
    if ethical:
        card["ethical_considerations"] = "; ".join(ethical)
    data = (document.get("model_parameters") or {}).get("data") or []
    for dataset in data:
        target = (
            "evaluation_data"
            if "eval" in str(dataset.get("name", "")).lower()
            else ("training_data")
        )
        card.setdefault(target, {"name": dataset.get("name"), **_described(dataset)})
    for key in _MLGATE_FIELDS:  # mlgate's own fields, where a team adds them
        if key in document:
            card[key] = document[key]
    return card


def from_hugging_face(text: str) -> dict[str, Any]:
    """A Hugging Face README.md card as mlgate fields: front matter, then the template's
    sections by title."""
    match = _FRONT_MATTER.match(text)
    front: dict[str, Any] = {}
    body = text
    if match:
        loaded = yaml.safe_load(match.group(1))
        front = loaded if isinstance(loaded, dict) else {}
        body = match.group(2)
    card: dict[str, Any] = {}
    index = front.get("model-index")
    if isinstance(index, list) and index and isinstance(index[0], dict) and index[0].get("name"):
        card["name"] = index[0]["name"]
    for title, content in _sections(body):
        target = _HF_SECTIONS.get(title.lower())
        if target is None or not content or target in card:
            continue
        if target == "out_of_scope_uses":
            card[target] = [line.lstrip("-* ").strip() for line in content.splitlines() if line]
        elif target in ("training_data", "evaluation_data"):
            card[target] = {"name": _first_line(content), "description": content}
        else:
            card[target] = content
    for key in _MLGATE_FIELDS:
        if key in front:
            card[key] = front[key]
    if "description" not in card and body.strip():
        card["description"] = _first_paragraph(body)
    return card


def _sections(body: str) -> list[tuple[str, str]]:
    """(title, text) of each markdown heading, the text up to the next heading."""
    found: list[tuple[str, str]] = []
    title, lines = "", list[str]()
    for line in body.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if heading:
            if title:
                found.append((title, "\n".join(lines).strip()))
            title, lines = heading.group(1), []
        else:
            lines.append(line)
    if title:
        found.append((title, "\n".join(lines).strip()))
    return found


def _joined(items: Any, key: str) -> str:
    return " ".join(str(i.get(key)) for i in items or [] if isinstance(i, dict) and i.get(key))


def _described(dataset: dict[str, Any]) -> dict[str, Any]:
    return {"description": dataset["description"]} if dataset.get("description") else {}


def _first_line(text: str) -> str:
    return next((line.strip("-*# ") for line in text.splitlines() if line.strip()), "")


def _first_paragraph(text: str) -> str:
    for paragraph in re.split(r"\n\s*\n", text):
        plain = paragraph.strip()
        if plain and not plain.startswith("#"):
            return plain
    return ""
