"""The rule language of ``RuleClassifier`` / ``RuleRegressor``: parsed, never executed.

A rule such as ``"`monthly charges` > 70 and contract in ['month-to-month']"`` is
parsed with :func:`ast.parse` into a closed grammar (column names, literals,
comparisons, ``and``/``or``/``not``, arithmetic, ``in [literal list]`` and a few
named helpers) and evaluated column-wise with pandas operations by our own code.
No Python is compiled or run, nothing is looked up by name outside the frame's
columns and the helpers below, so a rule read from a file cannot reach ``os``,
attributes or any other callable.

Missing values follow three-valued (Kleene) logic: a comparison involving a
missing value is *unknown*; ``not`` of unknown is unknown; ``unknown and False``
is False, ``unknown or True`` is True; and a rule that is unknown on a row does
not hold there. ``isna(x)`` / ``notna(x)`` are always known.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import math
import operator
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["HELPERS", "CompiledRule", "evaluate_rule", "parse_rule"]

MAX_TEXT = 10_000  # characters of one rule
MAX_DEPTH = 100  # nesting of the expression tree
MAX_NODES = 2_000  # expression nodes of one rule
MAX_EXPONENT = 1_000  # largest literal exponent of ``**``

#: The named helpers a rule may call, each with one positional argument.
HELPERS: dict[str, str] = {
    "isna": "True where the value is missing (NaN, None, NaT, pd.NA)",
    "isnull": "alias of isna",
    "notna": "True where the value is present",
    "notnull": "alias of notna",
    "abs": "absolute value of a number",
    "lower": "text in lower case",
    "upper": "text in upper case",
    "strip": "text without leading and trailing white space",
    "len": "number of characters of a text",
}
_HELPER_KIND = {
    "isna": "cond", "isnull": "cond", "notna": "cond", "notnull": "cond",
    "abs": "num", "lower": "text", "upper": "text", "strip": "text", "len": "num",
}

ALLOWED = (
    "column names (`backticks` for names with spaces), numbers, 'text', True, False, "
    "None; comparisons == != < <= > >=; and, or, not (or &, |, ~ on conditions); "
    "+ - * / // % **; x in [literal, ...]; and the helpers "
    + ", ".join(HELPERS)
)

_COMPARE: dict[type, str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
_COMPARE_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_ARITH: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/",
    ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
}
_ARITH_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}
_FLOAT_OPS = frozenset({"/", "//", "%", "**"})  # computed in floating point
_REFUSED_OPS: dict[type, str] = {
    ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.MatMult: "@",
}
_REFUSED_NODES: dict[type, str] = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
    ast.JoinedStr: "f-string", ast.FormattedValue: "f-string", ast.Starred: "starred expression",
    ast.NamedExpr: "assignment expression (walrus)", ast.IfExp: "if-expression",
    ast.Dict: "dict display", ast.Set: "set display", ast.List: "list display",
    ast.Tuple: "tuple display", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "slice",
}
_KIND_WORD = {"num": "a number", "text": "text", "cond": "a condition", "none": "None"}


@dataclass(frozen=True, repr=False)
class CompiledRule:
    """A parsed rule: a tuple tree over column names and literals, ready to evaluate.

    Build it with :func:`parse_rule`. ``columns`` are the column names the rule
    reads, in order of first use.
    """

    text: str
    index: int | None
    tree: tuple[Any, ...]
    columns: tuple[str, ...]

    def __repr__(self) -> str:
        return f"CompiledRule({self.text!r}, columns={list(self.columns)!r})"

    @property
    def label(self) -> str:
        """How error messages name the rule: ``rule 3 'age < 18'`` (text truncated)."""
        return _label(self.text, self.index)


def _label(text: str, index: int | None) -> str:
    short = text if len(text) <= 80 else text[:77] + "..."
    return f"rule {short!r}" if index is None else f"rule {index} {short!r}"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- parsing ----------------------------------------------------------------------


def parse_rule(text: str, *, index: int | None = None) -> CompiledRule:
    """Parse one rule of the closed rule language; nothing in it is ever executed.

    Parameters
    ----------
    text : str
        The rule, e.g. ``"`monthly charges` > 70 and contract in ['month-to-month']"``.
    index : int, optional
        The rule's position in the rule list, named in error messages.

    Returns
    -------
    CompiledRule
        An immutable tree; ``columns`` lists the column names it reads.

    Raises
    ------
    InputError
        Text that is not a rule of the language (syntax error, attribute access,
        a call of anything but the helpers, ``@name``, subscripts, lambdas,
        comprehensions, f-strings, keyword arguments, too long or too deeply
        nested...), naming the rule and the refused construct.

    Examples
    --------
    >>> rule = parse_rule("`monthly charges` > 70 and contract in ['month-to-month', 'weekly']")
    >>> rule.columns
    ('monthly charges', 'contract')
    >>> parse_rule("isna(age) or age < 18").columns
    ('age',)
    >>> parse_rule("pd.io.common.os.system('ls') > -1", index=0)
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: rule 0 "pd.io.common.os.system('ls') > -1" uses a call of 'pd.io.common.os.system', which the rule language does not allow; ...
    """
    if not isinstance(text, str):
        raise InputError(f"rule {index} is {type(text).__name__}", expected="a rule string")
    label = _label(text, index)
    if len(text) > MAX_TEXT:
        raise InputError(
            f"{label} has {len(text):,} characters", expected=f"at most {MAX_TEXT:,} characters"
        )
    source, names = _replace_backticks(text, label)
    try:
        with warnings.catch_warnings():
            # Invalid escape sequences in literals warn; they keep their backslash.
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError) as exc:
        reason = getattr(exc, "msg", None) or str(exc) or "too complex to parse"
        raise InputError(
            f"{label} is not a valid rule: {type(exc).__name__}: {_short(reason, 120)}",
            expected=ALLOWED,
        ) from None
    _check_size(tree.body, label)
    compiler = _Compiler(label, names)
    body, kind = compiler.build(tree.body)
    if kind not in ("cond", "any"):
        what = "numbers" if kind == "num" else _KIND_WORD[kind]
        raise InputError(
            f"{label} gives {what}, not a condition", expected="a rule that is True or False on each row"
        )
    return CompiledRule(text=text, index=index, tree=body, columns=tuple(compiler.columns))


def _replace_backticks(text: str, label: str) -> tuple[str, dict[str, str]]:
    """Backticked names replaced by placeholder identifiers, and the placeholder map.

    String literals are skipped (a backtick or ``@`` inside quotes is text); an
    ``@`` outside them (pandas' local variable syntax) is refused here, with a
    clearer message than the parser would give.
    """
    prefix = "_col_"
    while prefix in text:  # no identifier of the text can be mistaken for a placeholder
        prefix = "_" + prefix
    out: list[str] = []
    names: dict[str, str] = {}  # placeholder -> column name
    placeholders: dict[str, str] = {}  # column name -> placeholder
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(j + len(quote), n)
            out.append(text[i:j])
            i = j
        elif ch == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise InputError(
                    f"{label} has an unterminated backtick at character {i}",
                    expected="column names with spaces written as `monthly charges`",
                )
            name = text[i + 1 : end]
            if not name:
                raise InputError(f"{label} has an empty `` column name", expected="`column name`")
            if name not in placeholders:
                placeholders[name] = f"{prefix}{len(placeholders)}"
                names[placeholders[name]] = name
            out.append(f" {placeholders[name]} ")
            i = end + 1
        elif ch == "@":
            raise InputError(
                f"{label} uses '@' (pandas' local variable syntax): rules only read the "
                "columns of X, no variable of the program",
                expected="the value written into the rule, e.g. age > 18",
            )
        else:
            out.append(ch)
            i += 1
    return "".join(out).strip(), names  # leading blanks would be an IndentationError


def _check_size(root: ast.AST, label: str) -> None:
    """Refuse trees deeper than MAX_DEPTH or bigger than MAX_NODES, without recursing."""
    stack: list[tuple[ast.AST, int]] = [(root, 1)]
    count = 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise InputError(
                f"{label} is nested more than {MAX_DEPTH} levels deep",
                expected="a shorter rule (or several rules)",
            )
        if count > MAX_NODES:
            raise InputError(
                f"{label} has more than {MAX_NODES:,} parts", expected="a shorter rule (or several rules)"
            )
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr_context | ast.operator | ast.cmpop | ast.boolop | ast.unaryop):
                stack.append((child, depth + 1))


class _Compiler:
    """AST of the Python parser -> tuple tree of the rule language, with static kinds.

    Kinds: ``num``, ``text``, ``cond`` (True/False/unknown), ``none`` (the None
    literal) and ``any`` (a column: its dtype is only known at evaluation).
    """

    def __init__(self, label: str, names: dict[str, str]) -> None:
        self.label = label
        self.names = names
        self.columns: list[str] = []
        if names:
            self._placeholder = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True))))

    # ---- messages -------------------------------------------------------------------
    def source(self, node: ast.AST) -> str:
        text = ast.unparse(node)
        if self.names:
            text = self._placeholder.sub(lambda m: f"`{self.names[m.group(0)]}`", text)
        return _short(text)

    def refuse(self, construct: str, *, expected: str = ALLOWED) -> InputError:
        return InputError(
            f"{self.label} uses {construct}, which the rule language does not allow",
            expected=expected,
        )

    def need(self, kind: str, allowed: tuple[str, ...], node: ast.AST, role: str) -> None:
        if kind not in (*allowed, "any"):
            raise InputError(
                f"{self.label}: {role}, but {self.source(node)!r} is {_KIND_WORD[kind]}",
                expected=ALLOWED,
            )

    # ---- compilation -----------------------------------------------------------------
    def build(self, node: ast.AST) -> tuple[tuple[Any, ...], str]:
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            name = self.names.get(node.id, node.id)
            if name not in self.columns:
                self.columns.append(name)
            return ("col", name), "any"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            parts = []
            for value in node.values:
                tree, kind = self.build(value)
                self.need(kind, ("cond",), value, f"'{word}' joins conditions")
                parts.append(tree)
            return (word, tuple(parts)), "cond"
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        construct = _REFUSED_NODES.get(type(node), type(node).__name__)
        raise self.refuse(f"{construct} {self.source(node)!r}")

    def constant(self, node: ast.Constant) -> tuple[tuple[Any, ...], str]:
        value = node.value
        if value is None:
            return ("const", None), "none"
        if isinstance(value, bool):
            return ("const", value), "cond"
        if isinstance(value, int | float):
            return ("const", _number(value, self.label)), "num"
        if isinstance(value, str):
            return ("const", value), "text"
        what = {complex: "the complex number", bytes: "the bytes literal"}.get(type(value), "the literal")
        raise self.refuse(f"{what} {self.source(node)!r}")

    def compare(self, node: ast.Compare) -> tuple[tuple[Any, ...], str]:
        ops = node.ops
        if any(isinstance(op, ast.In | ast.NotIn) for op in ops):
            if len(ops) != 1:
                raise self.refuse(f"a chained 'in' {self.source(node)!r}", expected="one x in [...] per test")
            left, kind = self.build(node.left)
            if kind == "none":
                raise self.refuse("None on the left of 'in'", expected="isna(x)")
            values = self.literal_list(node.comparators[0])
            return ("in", left, values, isinstance(ops[0], ast.NotIn)), "cond"
        symbols = []
        for op in ops:
            if type(op) not in _COMPARE:
                word = "is not" if isinstance(op, ast.IsNot) else "is"
                raise self.refuse(f"the '{word}' comparison", expected="== or !=, and isna(x) for missing values")
            symbols.append(_COMPARE[type(op)])
        operands, kinds = [], []
        for operand in (node.left, *node.comparators):
            tree, kind = self.build(operand)
            if kind == "none":
                raise self.refuse(
                    f"a comparison with None in {self.source(node)!r}",
                    expected="isna(x) or notna(x) to test for missing values",
                )
            operands.append(tree)
            kinds.append(kind)
        for a, b in itertools.pairwise(kinds):
            if {a, b} in ({"text", "num"}, {"text", "cond"}):
                raise InputError(
                    f"{self.label} compares {_KIND_WORD[a]} with {_KIND_WORD[b]} in {self.source(node)!r}",
                    expected="text compared with text, numbers with numbers",
                )
        return ("cmp", tuple(symbols), tuple(operands)), "cond"

    def literal_list(self, node: ast.AST) -> tuple[Any, ...]:
        if not isinstance(node, ast.List | ast.Tuple | ast.Set):
            raise self.refuse(
                f"'in' with {self.source(node)!r}",
                expected="a literal list after 'in', such as x in ['a', 'b'] or x in [1, 2]",
            )
        values = []
        for element in node.elts:
            tree, _ = self.build(element)
            if tree[0] != "const":
                raise self.refuse(
                    f"{self.source(element)!r} in the list after 'in'",
                    expected="only literals (numbers, 'text', True, False, None) in the list",
                )
            values.append(tree[1])
        return tuple(values)

    def unary(self, node: ast.UnaryOp) -> tuple[tuple[Any, ...], str]:
        operand, kind = self.build(node.operand)
        if isinstance(node.op, ast.Not | ast.Invert):
            word = "not" if isinstance(node.op, ast.Not) else "~"
            self.need(kind, ("cond",), node.operand, f"'{word}' negates a condition")
            return ("not", operand), "cond"
        sign = "-" if isinstance(node.op, ast.USub) else "+"
        self.need(kind, ("num",), node.operand, f"unary '{sign}' needs a number")
        tree = ("neg" if sign == "-" else "pos", operand)
        return self.fold(tree, operand), "num"

    def binary(self, node: ast.BinOp) -> tuple[tuple[Any, ...], str]:
        op = type(node.op)
        if op in _REFUSED_OPS:
            raise self.refuse(f"the operator '{_REFUSED_OPS[op]}' in {self.source(node)!r}")
        left, left_kind = self.build(node.left)
        right, right_kind = self.build(node.right)
        if op in (ast.BitAnd, ast.BitOr):
            word = "&" if op is ast.BitAnd else "|"
            for part, kind in ((node.left, left_kind), (node.right, right_kind)):
                self.need(
                    kind, ("cond",), part,
                    f"'{word}' joins conditions ('{word}' binds tighter than comparisons: "
                    f"write (a > 1) {word} (b < 2), or use 'and'/'or')",
                )
            return ("and" if op is ast.BitAnd else "or", (left, right)), "cond"
        symbol = _ARITH[op]
        self.need(left_kind, ("num",), node.left, f"'{symbol}' needs numbers")
        self.need(right_kind, ("num",), node.right, f"'{symbol}' needs numbers")
        if symbol == "**" and right[0] == "const" and abs(right[1]) > MAX_EXPONENT:
            raise self.refuse(
                f"the exponent {right[1]!r} in {self.source(node)!r}",
                expected=f"a literal exponent between -{MAX_EXPONENT} and {MAX_EXPONENT}",
            )
        return self.fold(("arith", symbol, left, right), left, right), "num"

    def call(self, node: ast.Call) -> tuple[tuple[Any, ...], str]:
        func = node.func
        if not isinstance(func, ast.Name) or func.id in self.names or func.id not in HELPERS:
            raise self.refuse(f"a call of {self.source(func)!r}", expected=f"only the helpers {', '.join(HELPERS)}")
        name = func.id
        if node.keywords:
            kw = node.keywords[0].arg
            raise self.refuse(
                f"the keyword argument {f'{kw}=' if kw else '**'!r} in {self.source(node)!r}",
                expected=f"{name}(x) with one positional argument",
            )
        if any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.refuse(f"a starred argument in {self.source(node)!r}", expected=f"{name}(x)")
        if len(node.args) != 1:
            raise InputError(
                f"{self.label}: {name}() takes 1 argument, got {len(node.args)} in {self.source(node)!r}",
                expected=f"{name}(x)",
            )
        arg, kind = self.build(node.args[0])
        if name in ("abs",):
            self.need(kind, ("num",), node.args[0], f"{name}() needs a number")
        elif name in ("lower", "upper", "strip", "len"):
            self.need(kind, ("text",), node.args[0], f"{name}() needs text")
        tree: tuple[Any, ...] = ("call", name, arg)
        return (self.fold(tree, arg) if name == "abs" else tree), _HELPER_KIND[name]

    def fold(self, tree: tuple[Any, ...], *children: tuple[Any, ...]) -> tuple[Any, ...]:
        """Arithmetic between literals computed now (numpy scalars: bounded time)."""
        if not all(child[0] == "const" for child in children):
            return tree
        with np.errstate(all="ignore"):
            value = _Evaluator(self.label, pd.DataFrame()).value(tree)
        return ("const", _number(value, self.label))


def _number(value: Any, label: str) -> int | float:
    """A numeric literal as int (within int64) or float."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool):
        if -(2**63) <= value < 2**63:
            return value
        try:
            return float(value)
        except OverflowError:
            raise InputError(f"{label} has a number too large for a float", expected="a smaller number") from None
    return float(value)


# ---- evaluation ---------------------------------------------------------------------


def evaluate_rule(rule: CompiledRule, frame: pd.DataFrame) -> np.ndarray:
    """The rows of ``frame`` where ``rule`` holds, as a boolean array.

    Whole columns are combined with pandas operations (no loop over rows).
    A row where the rule is unknown (a comparison with a missing value that
    ``and``/``or`` did not settle) counts as False.

    Parameters
    ----------
    rule : CompiledRule
        From :func:`parse_rule`.
    frame : pandas.DataFrame
        Must have every column in ``rule.columns``.

    Returns
    -------
    ndarray of bool, shape (len(frame),)

    Raises
    ------
    InputError
        A column the frame does not have, or an operation the columns' types do
        not support (``plan > 3`` on a text column, arithmetic on text, a
        non-boolean column used as a condition...), naming the rule and column.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> X = pd.DataFrame({"age": [12, np.nan, 40], "plan": ["a", None, "b"]})
    >>> evaluate_rule(parse_rule("isna(age) or age < 18"), X)
    array([ True,  True, False])
    >>> evaluate_rule(parse_rule("not (plan in ['a'])"), X)  # missing plan: unknown
    array([False, False,  True])
    """
    check_columns(rule, frame.columns)
    evaluator = _Evaluator(rule.label, frame)
    with np.errstate(all="ignore"):
        value = evaluator.value(rule.tree)
        cond = evaluator.condition(value, rule.tree, "a rule must be a condition")
    if isinstance(cond, pd.Series):
        return cond.to_numpy(dtype=bool, na_value=False)
    return np.full(len(frame), cond is True)


def check_columns(rule: CompiledRule, columns: pd.Index) -> None:
    """Raise an InputError naming the first column of ``rule`` that ``columns`` lacks."""
    for name in rule.columns:
        if name not in columns:
            known = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10 else "")
            raise InputError(
                f"{rule.label} uses the column {name!r}, which X does not have "
                f"(X has {len(columns)} feature(s): {known})",
                expected="the column names of X (x0, x1, ... for numpy input); `backticks` for names with spaces",
            )


def _missing(value: Any) -> Any:
    """Missing as a bool array (Series) or bool (scalar): NaN, None, NaT, pd.NA."""
    if isinstance(value, pd.Series):
        missing = value.isna().to_numpy(dtype=bool)
        if isinstance(value.dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_float_dtype(
            value.dtype
        ):  # a nullable float array can hold NaN apart from pd.NA
            missing = missing | np.isnan(value.to_numpy(dtype="float64", na_value=np.nan))
        return missing
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


class _Evaluator:
    """Evaluates a tuple tree on a frame: values are Series (per row) or scalars."""

    def __init__(self, label: str, frame: pd.DataFrame) -> None:
        self.label = label
        self.frame = frame

    # ---- messages ---------------------------------------------------------------------
    def describe(self, node: tuple[Any, ...], value: Any) -> str:
        if node[0] == "col":
            dtype = value.dtype if isinstance(value, pd.Series) else type(value).__name__
            return f"the column {node[1]!r} ({dtype})"
        if node[0] == "const":
            return repr(node[1])
        kind = value.dtype if isinstance(value, pd.Series) else type(value).__name__
        return f"{_short(_render(node), 40)!r} ({kind})"

    def fail(self, what: str, exc: Exception | None = None, expected: str | None = None) -> InputError:
        reason = f": {type(exc).__name__}: {_short(str(exc), 120)}" if exc is not None else ""
        return InputError(f"{self.label}: {what}{reason}", expected=expected)

    # ---- values -----------------------------------------------------------------------
    def value(self, node: tuple[Any, ...]) -> Any:
        kind = node[0]
        if kind == "const":
            return node[1]
        if kind == "col":
            return self.column(node[1])
        if kind == "cmp":
            return self.compare(node)
        if kind in ("and", "or"):
            parts = [self.condition(self.value(part), part, f"'{kind}' joins conditions") for part in node[1]]
            result = parts[0]
            for part in parts[1:]:
                result = (result & part) if kind == "and" else (result | part)
            return result
        if kind == "not":
            cond = self.condition(self.value(node[1]), node[1], "'not' negates a condition")
            return _negate(cond)
        if kind == "in":
            return self.isin(node)
        if kind in ("neg", "pos"):
            operand = self.numeric(self.value(node[1]), node[1], f"unary '{'-' if kind == 'neg' else '+'}'")
            return -operand if kind == "neg" else operand
        if kind == "arith":
            return self.arith(node)
        if kind == "call":
            return self.call(node)
        raise self.fail(f"unknown node {kind!r}", expected="a rule from parse_rule")

    def column(self, name: str) -> pd.Series:
        loc = self.frame.columns.get_loc(name)
        if not isinstance(loc, int):
            raise self.fail(f"X has several columns named {name!r}", expected="unique column names")
        return self.frame.iloc[:, loc]

    def condition(self, value: Any, node: tuple[Any, ...], role: str) -> Any:
        """``value`` as a boolean (nullable) Series, or True/False/pd.NA."""
        if isinstance(value, pd.Series):
            dtype = value.dtype
            if pd.api.types.is_bool_dtype(dtype):
                return value if isinstance(dtype, pd.BooleanDtype) else value.astype("boolean")
            if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(value, skipna=True) in ("boolean", "empty"):
                return value.astype("boolean")
            what = "numbers" if pd.api.types.is_numeric_dtype(dtype) else f"{dtype} values"
            raise self.fail(
                f"{role}, but {self.describe(node, value)} gives {what}, not a condition",
                expected="a comparison (x > 3), isna(x), or a column of True/False",
            )
        if isinstance(value, bool | np.bool_):
            return bool(value)
        if value is pd.NA:
            return value
        raise self.fail(f"{role}, but {self.describe(node, value)} is not a condition")

    def numeric(self, value: Any, node: tuple[Any, ...], role: str) -> Any:
        if isinstance(value, pd.Series):
            dtype = value.dtype
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                return value
            if pd.api.types.is_object_dtype(dtype) and pd.api.types.infer_dtype(value, skipna=True) in (
                "integer", "floating", "mixed-integer-float", "decimal", "empty",
            ):
                return value.astype("float64")
            raise self.fail(f"{role} needs numbers, but {self.describe(node, value)} does not hold numbers")
        if isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_):
            return value
        raise self.fail(f"{role} needs numbers, but {self.describe(node, value)} is not a number")

    def compare(self, node: tuple[Any, ...]) -> Any:
        _, symbols, operands = node
        if not set(symbols) <= _COMPARE_FUNCS.keys():
            raise self.fail(f"unknown comparison {symbols!r}", expected=" ".join(_COMPARE_FUNCS))
        values = [self.value(operand) for operand in operands]
        result: Any = None
        for i, symbol in enumerate(symbols):
            left, right = values[i], values[i + 1]
            try:
                raw = _COMPARE_FUNCS[symbol](left, right)
            except (TypeError, ValueError, AttributeError, OverflowError) as exc:
                raise self.fail(
                    f"cannot compare {self.describe(operands[i], left)} with "
                    f"{self.describe(operands[i + 1], right)} using '{symbol}'",
                    exc,
                    expected="text compared with text, numbers with numbers, dates with dates",
                ) from None
            known = _known(raw, _missing(left) | _missing(right))
            result = known if result is None else result & known  # 0 < x < 5: both hold
        return result

    def isin(self, node: tuple[Any, ...]) -> Any:
        _, operand, values, negated = node
        value = self.value(operand)
        listed = [v for v in values if v is not None]
        has_none = len(listed) < len(values)
        series = value if isinstance(value, pd.Series) else pd.Series([value], dtype=object)
        try:
            hit = series.isin(listed).to_numpy(dtype=bool)
        except (TypeError, ValueError) as exc:
            raise self.fail(f"cannot test {self.describe(operand, value)} against the list", exc) from None
        missing = np.asarray(_missing(series))
        array = pd.arrays.BooleanArray(np.where(missing, has_none, hit), missing & (not has_none))
        result: Any = pd.Series(array, index=series.index) if isinstance(value, pd.Series) else array[0]
        return _negate(result) if negated else result

    def arith(self, node: tuple[Any, ...]) -> Any:
        _, symbol, left_node, right_node = node
        if symbol not in _ARITH_FUNCS:
            raise self.fail(f"unknown operator {symbol!r}", expected=" ".join(_ARITH_FUNCS))
        left = self.numeric(self.value(left_node), left_node, f"'{symbol}'")
        right = self.numeric(self.value(right_node), right_node, f"'{symbol}'")
        if symbol == "**" and not isinstance(right, pd.Series) and abs(right) > MAX_EXPONENT:
            raise self.fail(f"the exponent {right!r} is too large", expected=f"at most {MAX_EXPONENT}")
        if symbol in _FLOAT_OPS:
            left, right = _as_float(left), _as_float(right)
        elif not isinstance(left, pd.Series) and not isinstance(right, pd.Series):
            left, right = _as_numpy(left), _as_numpy(right)  # fixed width, like a column
        try:
            return _ARITH_FUNCS[symbol](left, right)
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise self.fail(
                f"cannot compute {self.describe(left_node, left)} {symbol} {self.describe(right_node, right)}",
                exc,
            ) from None

    def call(self, node: tuple[Any, ...]) -> Any:
        _, name, arg_node = node
        if name not in HELPERS:  # trees come from parse_rule; never dispatch on other names
            raise self.fail(f"{name!r} is not a helper", expected=", ".join(HELPERS))
        value = self.value(arg_node)
        if name in ("isna", "isnull", "notna", "notnull"):
            missing = _missing(value)
            if name in ("notna", "notnull"):
                missing = ~missing if isinstance(missing, np.ndarray) else not missing
            return pd.Series(missing, index=value.index) if isinstance(value, pd.Series) else missing
        if name == "abs":
            return abs(self.numeric(value, arg_node, "abs()"))
        scalar_func, series_func = _TEXT_HELPERS[name]
        if not isinstance(value, pd.Series):
            if not isinstance(value, str):
                raise self.fail(f"{name}() needs text, but {self.describe(arg_node, value)} is not text")
            return scalar_func(value)
        dtype = value.dtype
        text_like = (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        )
        try:
            if not text_like:
                raise TypeError(f"the dtype {dtype} holds no text")
            return series_func(value.str)
        except (TypeError, AttributeError, ValueError) as exc:
            raise self.fail(f"{name}() needs text, but {self.describe(arg_node, value)} is not text", exc) from None


_TEXT_HELPERS: dict[str, tuple[Callable[[str], Any], Callable[[Any], pd.Series]]] = {
    "lower": (str.lower, lambda accessor: accessor.lower()),
    "upper": (str.upper, lambda accessor: accessor.upper()),
    "strip": (str.strip, lambda accessor: accessor.strip()),
    "len": (len, lambda accessor: accessor.len()),
}


def _known(raw: Any, missing: Any) -> Any:
    """A comparison result with missing operands made unknown (pd.NA)."""
    if isinstance(raw, pd.Series):
        values = raw.to_numpy(dtype=bool, na_value=False)
        mask = np.asarray(missing, dtype=bool) | raw.isna().to_numpy(dtype=bool)
        return pd.Series(pd.arrays.BooleanArray(values, mask), index=raw.index)
    if missing or raw is pd.NA:
        return pd.NA
    return bool(raw)


def _negate(cond: Any) -> Any:
    if isinstance(cond, pd.Series):
        return ~cond
    return cond if cond is pd.NA else not cond


def _as_float(value: Any) -> Any:
    if isinstance(value, pd.Series):
        if pd.api.types.is_integer_dtype(value.dtype):
            nullable = isinstance(value.dtype, pd.api.extensions.ExtensionDtype)
            return value.astype("Float64" if nullable else "float64")
        return value
    return np.float64(value)


def _as_numpy(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return np.float64(value)
    return np.int64(value)


def _render(node: tuple[Any, ...]) -> str:
    """The rule text of a tree (for messages)."""
    kind = node[0]
    if kind == "col":
        name = node[1]
        plain = name.isidentifier() and not keyword.iskeyword(name)
        return name if plain else f"`{name}`"
    if kind == "const":
        value = node[1]
        return repr(value) if not (isinstance(value, float) and not math.isfinite(value)) else f"{value}"
    if kind == "cmp":
        parts = [_render(node[2][0])]
        for symbol, operand in zip(node[1], node[2][1:], strict=True):
            parts += [symbol, _render(operand)]
        return "(" + " ".join(parts) + ")"
    if kind in ("and", "or"):
        return "(" + f" {kind} ".join(_render(part) for part in node[1]) + ")"
    if kind == "not":
        return f"(not {_render(node[1])})"
    if kind == "in":
        return f"({_render(node[1])} {'not in' if node[3] else 'in'} {list(node[2])!r})"
    if kind in ("neg", "pos"):
        return f"{'-' if kind == 'neg' else '+'}{_render(node[1])}"
    if kind == "arith":
        return f"({_render(node[2])} {node[1]} {_render(node[3])})"
    return f"{node[1]}({_render(node[2])})"
