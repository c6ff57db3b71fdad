"""carelevel: recommend a level of care from screening answers scored against
declarative YAML rules (clinical decision support; a qualified professional makes the
final placement).

>>> import carelevel
>>> rs = carelevel.Ruleset.default()
>>> rs.id, rs.version
('default', '1.1.0')

See ``Ruleset`` for loading and assessing, ``Ruleset.assess_table`` for tables
(pyarrow, pandas, Polars), and ``diff`` for comparing two rulesets.
"""

from ._carelevel import (
    AnswersError,
    EvaluationError,
    Ruleset,
    RulesetError,
    __version__,
    diff,
)

__all__ = [
    "AnswersError",
    "EvaluationError",
    "Ruleset",
    "RulesetError",
    "__version__",
    "diff",
]
