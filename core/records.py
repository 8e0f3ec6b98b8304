"""The JSON shapes of `--json` output: a stable interface scripts depend on."""

from __future__ import annotations

from typing import Any

from .models import Item
from .redact import redact_url
from .store import Queued


def item_record(item: Item, show_secrets: bool = False) -> dict[str, Any]:
    shown = (lambda url: url) if show_secrets else redact_url
    return {
        **queued_record(item, show_secrets),
        "state": item.state.value,
        "priority": item.priority,
        "attempts": item.attempts,
        "error": item.error,
        "not_before": item.not_before,
        "parent_id": item.parent_id,
        "bytes_done": item.bytes_done,
        "bytes_total": item.bytes_total,
        "final_url": shown(item.final_url) if item.final_url else None,
        "entry_id": item.entry_id,
        "title": item.title,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def queued_record(item: Queued | Item, show_secrets: bool = False) -> dict[str, Any]:
    """A just-added item: what `haul add --json` reports without reading rows back."""
    shown = (lambda url: url) if show_secrets else redact_url
    return {
        "id": item.id,
        "source": shown(item.source),
        "key": shown(item.key),
        "kind": item.kind.value,
        "stage": item.stage.value,
        "state": "queued",
        "batch_id": item.batch_id,
    }


def entry_record(entry: dict[str, Any], show_secrets: bool = False) -> dict[str, Any]:
    if show_secrets:
        return entry
    sources = [
        {
            **source,
            "requested_url": redact_url(source["requested_url"]),
            "final_url": redact_url(source["final_url"]) if source["final_url"] else None,
        }
        for source in entry["sources"]
    ]
    return {**entry, "sources": sources}
