"""Turn REDCap logic text into tokens.

Positions are 0-based character offsets into the logic text, everywhere in this package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from recruit_cli.errors import LogicError


class Kind(Enum):
    FIELD = "field"  # [name] or [name(code)]
    STRING = "string"  # 'text' or "text"
    NUMBER = "number"  # 18, 2.5, .5
    NAME = "name"  # a function name or a keyword (and, or, not, true, false)
    OP = "operator"
    LPAREN = "("
    RPAREN = ")"
    COMMA = ","
    END = "end of logic"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # the exact source text of the token
    pos: int  # 0-based offset of its first character
    value: str = ""  # string contents, number text, field name or lower-cased name
    code: str | None = None  # the checkbox code of [field(code)]

    @property
    def end(self) -> int:
        return self.pos + len(self.text)


# REDCap variable names: lower-case letters, digits and underscores, starting with a letter.
_FIELD = re.compile(r"\[([a-z][a-z0-9_]*)(?:\((-?[A-Za-z0-9_.]+)\))?\]")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Longest first, so "<=" is not read as "<" then "=".
_OPERATORS = ("<=", ">=", "<>", "!=", "=", "<", ">", "+", "-", "*", "/", "^")
# Things people type from other languages: refuse them with a hint instead of guessing.
_FOREIGN = {
    "==": "use '=' to compare",
    "&&": "use 'and'",
    "||": "use 'or'",
    "!": "use 'not' (or '<>' / '!=' to compare)",
}
_PUNCT = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}


def checkbox_key(field: str, code: str) -> str:
    """The flat-export column of a checkbox option: ``cb(-1)`` is ``cb____1``.

    REDCap lower-cases the code and turns every character other than a letter, digit or
    underscore (a minus sign, a dot) into an underscore.
    """
    return f"{field}___" + re.sub(r"[^a-z0-9_]", "_", code.lower())


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens, ending with one ``Kind.END`` token.

    Comments are REDCap's: a line whose first non-blank characters are ``#`` or ``//``.

    Raises:
        LogicError: an unterminated string, a malformed ``[field]`` or a character that
            is not part of the language, with its position.
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    line_start = True  # only white space since the last newline (or the start)
    while i < n:
        ch = text[i]
        if ch.isspace():
            if ch == "\n":
                line_start = True
            i += 1
            continue
        if line_start and (ch == "#" or text.startswith("//", i)):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
            continue
        line_start = False
        if ch == "[":
            token = _field(text, i)
            tokens.append(token)
            i = token.end
            if i < n and text[i] == "[":
                raise LogicError(
                    "event or instance references like [event][field] are not supported",
                    text=text,
                    position=i,
                )
            continue
        if ch in "'\"":
            close = text.find(ch, i + 1)
            if close < 0:
                raise LogicError(f"unterminated string: no closing {ch}", text=text, position=i)
            tokens.append(Token(Kind.STRING, text[i : close + 1], i, text[i + 1 : close]))
            i = close + 1
            continue
        match = _NUMBER.match(text, i)
        if match:
            tokens.append(Token(Kind.NUMBER, match.group(), i, match.group()))
            i = match.end()
            continue
        match = _NAME.match(text, i)
        if match:
            word = match.group()
            tokens.append(Token(Kind.NAME, word, i, word.lower()))
            i = match.end()
            continue
        if ch in _PUNCT:
            tokens.append(Token(_PUNCT[ch], ch, i))
            i += 1
            continue
        for foreign, hint in _FOREIGN.items():
            if text.startswith(foreign, i) and not text.startswith("!=", i):
                raise LogicError(f"unsupported operator {foreign!r}: {hint}", text=text, position=i)
        for op in _OPERATORS:
            if text.startswith(op, i):
                tokens.append(Token(Kind.OP, op, i, op))
                i += len(op)
                break
        else:
            raise LogicError(f"unexpected character {ch!r}", text=text, position=i)
    tokens.append(Token(Kind.END, "", n))
    return tokens


def _field(text: str, i: int) -> Token:
    match = _FIELD.match(text, i)
    if match:
        name, code = match.group(1), match.group(2)
        return Token(Kind.FIELD, match.group(), i, name, code)
    close = text.find("]", i)
    if close < 0:
        raise LogicError("unclosed '[': no matching ']'", text=text, position=i)
    inner = text[i + 1 : close]
    if ":" in inner or "-" in inner.split("(")[0]:
        what = f"smart variables and field modifiers like [{inner}] are not supported"
    elif "(" in inner:
        what = f"malformed checkbox reference [{inner}]: expected [field(code)]"
    else:
        what = (
            f"malformed field reference [{inner}]: field names are lower-case letters, "
            "digits and underscores, starting with a letter"
        )
    raise LogicError(what, text=text, position=i)
