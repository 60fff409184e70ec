"""Pydantic models built from values already of their fields' types, without
validating them again: the hot paths' way (derived events, stored histories,
records read by their own value functions), each held equal to validation by
a test."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)
_set = object.__setattr__


def unvalidated(model: type[Model], values: dict[str, Any], fields_set: set[str]) -> Model:
    """The instance validation would build: `values` holds every field, in the
    model's order, each of its field's type; `fields_set` names those given
    (frozen models may share one set). No extra or private values."""
    built = model.__new__(model)
    _set(built, "__dict__", values)
    _set(built, "__pydantic_fields_set__", fields_set)
    _set(built, "__pydantic_extra__", None)
    _set(built, "__pydantic_private__", None)
    return built
