"""Recursive-descent parser: tokens to a syntax tree.

Precedence, loosest first::

    or
    and
    not                      (prefix)
    = <> != < <= > >=        (not chainable: a = b = c is an error)
    + -
    * /
    - +                      (unary)
    ^                        (right-associative: 2 ^ 3 ^ 2 = 2 ^ 9; -2 ^ 2 = -4)
    [field]  'string'  12.5  true  false  function(...)  ( ... )
"""

from __future__ import annotations

from typing import NoReturn

from recruit_cli.errors import LogicError
from recruit_cli.logic.functions import SPECS
from recruit_cli.logic.lexer import Kind, Token, checkbox_key, tokenize
from recruit_cli.logic.nodes import (
    COMPARISONS,
    Binary,
    Boolean,
    Call,
    Field,
    Node,
    Number,
    String,
    Unary,
    depth,
)

# Recursion guards: a parenthesis level costs ~10 Python frames here, a tree level ~3 when
# compiled and evaluated. Runs of and/or compile flat, so long filterLogic lists are fine.
MAX_NESTING = 40
MAX_DEPTH = 100
_KEYWORDS = frozenset({"and", "or", "not", "true", "false"})
_COMPARISON_OPS = COMPARISONS | {"!="}


def parse_tree(text: str) -> Node:
    """Parse REDCap logic into its syntax tree.

    Raises:
        LogicError: with the 0-based position of the problem and what was expected.
    """
    if not text.strip():
        raise LogicError("logic is empty", text=text, position=0)
    tree = _Parser(text).parse()
    if depth(tree) > MAX_DEPTH:
        raise LogicError(
            f"logic is too deeply nested (more than {MAX_DEPTH} levels)", text=text, position=0
        )
    return tree


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0
        if self.tokens[0].kind is Kind.END:  # only comments
            self.fail(self.tokens[0], "logic is empty")

    # -- token helpers ------------------------------------------------------------------
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at_word(self, *words: str) -> bool:
        return self.tok().kind is Kind.NAME and self.tok().value in words

    def at_op(self, *ops: str) -> bool:
        return self.tok().kind is Kind.OP and self.tok().value in ops

    def nest(self, token: Token, delta: int) -> None:
        self.nesting += delta
        if self.nesting > MAX_NESTING:
            self.fail(token, f"logic is too deeply nested (more than {MAX_NESTING} levels)")

    def fail(self, token: Token, message: str) -> NoReturn:
        raise LogicError(message, text=self.text, position=token.pos)

    def found(self, token: Token) -> str:
        return "the end of the logic" if token.kind is Kind.END else repr(token.text)

    # -- grammar ------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.disjunction()
        if self.tok().kind is not Kind.END:
            if self.tok().kind is Kind.RPAREN:
                self.fail(self.tok(), "unmatched ')'")
            self.fail(
                self.tok(), f"expected an operator or the end, found {self.found(self.tok())}"
            )
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.at_word("or"):
            self.advance()
            right = self.conjunction()
            node = Binary(node.start, right.end, "or", node, right)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.at_word("and"):
            self.advance()
            right = self.negation()
            node = Binary(node.start, right.end, "and", node, right)
        return node

    def negation(self) -> Node:
        if self.at_word("not"):
            token = self.advance()
            self.nest(token, 1)
            operand = self.negation()
            self.nest(token, -1)
            start = token.pos
            return Unary(start, operand.end, "not", operand)
        return self.comparison()

    def comparison(self) -> Node:
        node = self.additive()
        if self.tok().kind is Kind.OP and self.tok().value in _COMPARISON_OPS:
            op = self.advance().value
            op = "<>" if op == "!=" else op
            right = self.additive()
            node = Binary(node.start, right.end, op, node, right)
            if self.tok().kind is Kind.OP and self.tok().value in _COMPARISON_OPS:
                self.fail(self.tok(), "comparisons cannot be chained: join them with 'and'")
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.at_op("+", "-"):
            op = self.advance().value
            right = self.multiplicative()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def multiplicative(self) -> Node:
        node = self.unary()
        while self.at_op("*", "/"):
            op = self.advance().value
            right = self.unary()
            node = Binary(node.start, right.end, op, node, right)
        return node

    def unary(self) -> Node:
        if self.at_op("-", "+"):
            token = self.advance()
            self.nest(token, 1)
            operand = self.unary()
            self.nest(token, -1)
            if isinstance(operand, Number) and operand.start == token.end:
                # "-5" is a negative literal; keeps value() and the fast paths simple.
                value = -operand.value if token.value == "-" else operand.value
                return Number(token.pos, operand.end, value)
            return Unary(token.pos, operand.end, token.value, operand)
        return self.power()

    def power(self) -> Node:
        node = self.primary()
        if self.at_op("^"):
            self.advance()
            right = self.unary()
            node = Binary(node.start, right.end, "^", node, right)
        return node

    def primary(self) -> Node:
        token = self.tok()
        kind = token.kind
        if kind is Kind.FIELD:
            self.advance()
            key = token.value if token.code is None else checkbox_key(token.value, token.code)
            return Field(token.pos, token.end, token.value, token.code, key)
        if kind is Kind.STRING:
            self.advance()
            return String(token.pos, token.end, token.value)
        if kind is Kind.NUMBER:
            self.advance()
            return Number(token.pos, token.end, float(token.value))
        if kind is Kind.LPAREN:
            self.nest(self.advance(), 1)
            node = self.disjunction()
            self.nesting -= 1
            if self.tok().kind is not Kind.RPAREN:
                if self.tok().kind is Kind.END:
                    self.fail(token, "unclosed '(': no matching ')'")
                self.fail(
                    self.tok(), f"expected ')' or an operator, found {self.found(self.tok())}"
                )
            self.advance()
            return node
        if kind is Kind.NAME:
            if token.value in ("true", "false"):
                self.advance()
                return Boolean(token.pos, token.end, token.value == "true")
            if token.value not in _KEYWORDS:
                return self.call()
        self.fail(
            token,
            "expected a value (a [field], a number, a 'string' or a function), "
            f"found {self.found(token)}",
        )

    def call(self) -> Node:
        name = self.advance()
        if self.tok().kind is not Kind.LPAREN:
            self.fail(
                name,
                f"unexpected word {name.text!r}: field names go in brackets, like [{name.text}]",
            )
        spec = SPECS.get(name.value)
        if spec is None:
            self.fail(name, f"unknown function {name.text!r}")
        open_paren = self.advance()
        self.nest(open_paren, 1)
        args: list[Node] = []
        if self.tok().kind is not Kind.RPAREN:
            while True:
                args.append(self.disjunction())
                if self.tok().kind is Kind.COMMA:
                    self.advance()
                    continue
                if self.tok().kind is Kind.RPAREN:
                    break
                if self.tok().kind is Kind.END:
                    self.fail(open_paren, f"unclosed '(' of {name.value}(): no matching ')'")
                self.fail(self.tok(), f"expected ',' or ')', found {self.found(self.tok())}")
        close = self.advance()
        self.nesting -= 1
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            self.fail(
                name,
                f"{name.value}() takes {_arity(spec.min_args, spec.max_args)}, got {len(args)}",
            )
        node = Call(name.pos, close.end, name.value, tuple(args))
        if spec.check is not None:
            problem = spec.check(node)
            if problem is not None:
                raise LogicError(problem[1], text=self.text, position=problem[0])
        return node


def _arity(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument" + ("s" if low != 1 else "")
    if low == high:
        return f"{low} argument" + ("s" if low != 1 else "")
    return f"{low} to {high} arguments"
