"""The syntax tree. Every node knows its source span, so reasons can quote the logic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Node:
    start: int  # 0-based offset of the first character
    end: int  # offset just past the last character


@dataclass(frozen=True, slots=True)
class Field(Node):
    """``[name]`` or ``[name(code)]``; ``key`` is the record key to read."""

    name: str
    code: str | None
    key: str

    @property
    def label(self) -> str:
        return f"[{self.name}({self.code})]" if self.code is not None else f"[{self.name}]"


@dataclass(frozen=True, slots=True)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True)
class Number(Node):
    value: float


@dataclass(frozen=True, slots=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # "not", "-", "+"
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    """Arithmetic, comparison and the logical ``and`` / ``or``."""

    op: str  # "and", "or", "=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "^"
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str  # lower case
    args: tuple[Node, ...]


COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">="})
ARITHMETIC = frozenset({"+", "-", "*", "/", "^"})


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def walk(node: Node) -> list[Node]:
    """Every node of the tree, depth first in source order, ``node`` first.

    Iterative: a filterLogic of a few hundred ``or``-ed terms is a deep tree.
    """
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out


def chain(node: Binary) -> list[Node]:
    """The operands of a run of one ``and`` / ``or``: ``a or b or c`` gives [a, b, c]."""
    out: list[Node] = []
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Binary) and current.op == node.op:
            stack.extend((current.right, current.left))
        else:
            out.append(current)
    return out


def depth(node: Node) -> int:
    """Nesting depth, counting a run of ``and`` / ``or`` as one level (it compiles flat)."""
    deepest = 0
    stack: list[tuple[Node, int]] = [(node, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(current, Binary) and current.op in ("and", "or"):
            below: Sequence[Node] = chain(current)
        else:
            below = children(current)
        stack.extend((child, level + 1) for child in below)
    return deepest


def fields_in(node: Node) -> list[Field]:
    """The field references under ``node``, in source order."""
    return [n for n in walk(node) if isinstance(n, Field)]
