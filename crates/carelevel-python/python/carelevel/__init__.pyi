"""Type stubs of the carelevel package (the native module `carelevel._carelevel`)."""

from collections.abc import Iterable, Mapping, Sequence
from os import PathLike
from typing import Any, Literal, Optional, TypedDict, Union

import pyarrow

__version__: str

Answer = Union[str, int, bool, float, None]
Answers = Mapping[str, Answer]

class Diagnostic(TypedDict):
    severity: Literal["error", "warning", "note"]
    path: Optional[str]
    line: Optional[int]
    column: Optional[int]
    message: str

class Problem(TypedDict):
    factor: Optional[str]
    message: str

class Decision(TypedDict):
    level: str
    deciding_rules: list[str]
    flags: list[str]
    refer: bool
    needs_review: bool

class LevelInfo(TypedDict):
    id: str
    label: str
    rank: int
    description: str

class Question(TypedDict):
    id: str
    question: str
    kind: Literal["ordinal", "integer", "boolean"]
    values: Optional[list[str]]
    min: Optional[int]
    max: Optional[int]
    missing: Union[Literal["ask", "error"], dict[str, Any]]

class RulesetError(ValueError):
    """A ruleset that cannot be used; `diagnostics` lists every problem."""

    diagnostics: list[Diagnostic]

class AnswersError(ValueError):
    """Answers that do not fit the ruleset; `problems` lists every problem."""

    problems: list[Problem]

class EvaluationError(ValueError):
    """Valid answers for which no level can be computed."""

class Ruleset:
    """A compiled ruleset: immutable and shareable between threads."""

    @staticmethod
    def default() -> Ruleset: ...
    @staticmethod
    def from_yaml(text: str) -> Ruleset: ...
    @staticmethod
    def from_file(path: Union[str, PathLike[str]]) -> Ruleset: ...
    @property
    def id(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def levels(self) -> list[LevelInfo]: ...
    @property
    def questions(self) -> list[Question]: ...
    def assess(self, answers: Answers) -> dict[str, Any]: ...
    def decide(self, answers: Answers) -> Decision: ...
    def level(self, answers: Answers) -> str: ...
    def assess_table(self, data: Any, *, ignore: Sequence[str] = ()) -> pyarrow.Table: ...
    def check(self, *, strict: bool = False) -> dict[str, Any]: ...
    def schema(self, what: Literal["answers", "assessment"] = "answers") -> dict[str, Any]: ...

def diff(
    old: Ruleset,
    new: Ruleset,
    *,
    cases: Optional[Iterable[Answers]] = None,
    id_field: str = "id",
) -> dict[str, Any]: ...
