//! Compile a parsed ruleset into a [`Ruleset`]: check every name, range and band,
//! intern values to integer codes, compile conditions into a node arena, and
//! report every semantic error at once, each with its path and line.

use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Location, RulesetError, Severity};
use crate::eval;
use crate::limits;
use crate::model::{
    Band, ConditionArena, Dimension, DimensionIndex, Factor, FactorKind, FactorPoints, Flag,
    FlagKind, Invariant, Level, LevelTable, Metadata, MissingPolicy, Node, NodeId, Rule, Ruleset,
    ScoreBand, ScoreTable, Scoring, SourceCitation,
};
use crate::syntax::{
    self, Locator, RawCondition, RawDimension, RawFactor, RawFactorKind, RawFlagKind, RawMissing,
    RawOp, RawOperand, RawRuleset, RawScalar, RawScoring,
};
use crate::text::Shown;

/// Parse and compile ruleset text.
pub(crate) fn compile(text: &str) -> Result<Ruleset, RulesetError> {
    let raw: RawRuleset = syntax::parse_yaml(text, "ruleset").map_err(|d| RulesetError {
        diagnostics: vec![d],
    })?;
    let mut cx = Compiler {
        locator: Locator::new(text),
        diagnostics: Vec::new(),
        arena: ConditionArena::default(),
        unusable: Vec::new(),
        skipped: 0,
        arena_full: None,
        scoring: ScoringState::Absent,
    };
    let ruleset = cx.ruleset(raw, text);
    let mut diagnostics = cx.diagnostics;
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        diagnostics.sort_by_key(|d| d.location);
        return Err(RulesetError { diagnostics });
    }
    Ok(ruleset)
}

/// Why `url` is not an absolute URI usable as a FHIR canonical base, if it is not.
///
/// Accepted: `scheme ":" rest`, where the scheme is an ASCII letter followed by letters,
/// digits, `+`, `-` or `.` (RFC 3986 §3.1), and `rest` is non-empty, free of whitespace
/// and control characters, and free of `|` (FHIR's canonical version separator) and `#`
/// (a fragment would clash with the code-system paths minted under it). A trailing `/`
/// is refused too, since minted paths add their own.
fn check_url(url: &str) -> Result<(), &'static str> {
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err("it has no scheme (such as `https:` or `urn:`)");
    };
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(
            "its scheme must be an ASCII letter followed by letters, digits, `+`, `-` or `.`",
        );
    }
    if rest.is_empty() {
        return Err("nothing follows the scheme");
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains whitespace or a control character");
    }
    if url.contains('|') {
        return Err(
            "it contains `|`, which FHIR uses to separate a canonical URL from its version",
        );
    }
    if url.contains('#') {
        return Err("it contains `#` (a fragment)");
    }
    if url.ends_with('/') {
        return Err("it ends with `/`");
    }
    Ok(())
}

struct Compiler {
    locator: Locator,
    diagnostics: Vec<Diagnostic>,
    arena: ConditionArena,
    /// Integer factors whose range is unusable (`min` or `max` missing, or `min > max`):
    /// already reported, so comparisons on them are skipped rather than reported again
    /// against a range the author never wrote.
    unusable: Vec<String>,
    /// Comparisons skipped because of [`Compiler::unusable`]; they count as errors for
    /// the "can never be true" check, which must not run on them.
    skipped: usize,
    /// Set once the arena holds [`limits::MAX_CONDITION_NODES`] nodes (and reported):
    /// every later condition compiles to this one node, so the arena stops growing.
    arena_full: Option<NodeId>,
    /// Whether `score` conditions have a total to test (see [`ScoringState`]).
    scoring: ScoringState,
}

/// What a `score` condition can test: the ruleset has no `scoring`, has one with
/// errors (already reported, so score conditions are skipped), or has a usable one
/// whose points are in the arena's [`ScoreTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScoringState {
    Absent,
    Broken,
    Ready,
}

/// The key a condition uses for the total score, unless a question has this id.
pub(crate) const SCORE_KEY: &str = "score";

/// The key of `scoring.points.FACTOR` that gives an integer factor points per unit.
pub(crate) const PER_UNIT_KEY: &str = "per_unit";

impl Compiler {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let location = self.locator.find(path);
        self.diagnostics.push(Diagnostic::error(
            Some(path.to_owned()),
            message.into(),
            location,
        ));
    }

    fn locate(&self, path: &str) -> Option<Location> {
        self.locator.find(path)
    }

    fn identifier(&mut self, path: &str, id: &str) {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            && !id.starts_with('-');
        if !ok {
            self.error(
                path,
                format!(
                    "`{}` is not a valid identifier; use 1 to 64 lowercase ASCII letters, digits, `_` or `-`, not starting with `-`",
                    Shown::excerpt(id)
                ),
            );
        }
    }

    fn non_empty(&mut self, path: &str, what: &str, text: &str) {
        if text.trim().is_empty() {
            self.error(path, format!("{what} must not be empty"));
        }
    }

    fn ruleset(&mut self, raw: RawRuleset, text: &str) -> Ruleset {
        self.identifier("id", &raw.id);
        self.non_empty("version", "`version`", &raw.version);
        self.non_empty("title", "`title`", &raw.title);
        self.non_empty("description", "`description`", &raw.description);
        if let Some(url) = &raw.url {
            if let Err(why) = check_url(url) {
                self.error(
                    "url",
                    format!("`{url}` is not an absolute URI: {why}; write a scheme and a path, e.g. `https://example.org/rulesets/my-rules` or `urn:example:my-rules`, with no whitespace, `|` or `#`"),
                );
            }
        }
        let mut sources = Vec::new();
        for (i, s) in raw.sources.into_iter().enumerate() {
            let path = format!("sources[{i}]");
            self.identifier(&format!("{path}.id"), &s.id);
            if sources.iter().any(|x: &SourceCitation| x.id == s.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate source id `{}`", Shown::excerpt(&s.id)),
                );
            }
            self.non_empty(&format!("{path}.citation"), "`citation`", &s.citation);
            sources.push(SourceCitation {
                id: s.id,
                citation: s.citation,
            });
        }
        let dimensions = self.dimensions(raw.dimensions);
        let levels = self.levels(raw.levels);
        let mut factors = self.factors(raw.factors, &dimensions);
        let written = raw.scoring.is_some();
        let scoring = raw.scoring.and_then(|s| self.scoring(s, &factors, &levels));
        self.scoring = match &scoring {
            Some(s) => {
                self.arena.score = ScoreTable::new(s, &factors);
                ScoringState::Ready
            }
            None if written => ScoringState::Broken,
            None => ScoringState::Absent,
        };

        let mut rules = Vec::new();
        let mut conditions_ok = Vec::new();
        for (i, r) in raw.rules.into_iter().enumerate() {
            let path = format!("rules[{i}]");
            self.identifier(&format!("{path}.id"), &r.id);
            if rules.iter().any(|x: &Rule| x.id == r.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate rule id `{}`", Shown::excerpt(&r.id)),
                );
            }
            let level = self.level_ref(&format!("{path}.level"), &r.level, &levels);
            self.non_empty(&format!("{path}.because"), "`because`", &r.because);
            let dimension = self.dimension_ref(&path, r.dimension.as_deref(), &dimensions);
            let before = self.error_count();
            let when = self.condition(&r.when, &format!("{path}.when"), &factors, 1);
            conditions_ok.push((format!("{path}.when"), when, self.error_count() == before));
            rules.push(Rule {
                id: r.id,
                level: level.unwrap_or(0),
                because: r.because,
                source: r.source,
                dimension,
                when,
                location: self.locate(&path),
            });
        }
        let mut flags = Vec::new();
        for (i, f) in raw.flags.into_iter().enumerate() {
            let path = format!("flags[{i}]");
            self.identifier(&format!("{path}.id"), &f.id);
            if flags.iter().any(|x: &Flag| x.id == f.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate flag id `{}`", Shown::excerpt(&f.id)),
                );
            }
            self.non_empty(&format!("{path}.message"), "`message`", &f.message);
            let dimension = self.dimension_ref(&path, f.dimension.as_deref(), &dimensions);
            let before = self.error_count();
            let when = self.condition(&f.when, &format!("{path}.when"), &factors, 1);
            conditions_ok.push((format!("{path}.when"), when, self.error_count() == before));
            flags.push(Flag {
                id: f.id,
                kind: match f.kind {
                    RawFlagKind::Refer => FlagKind::Refer,
                    RawFlagKind::Review => FlagKind::Review,
                    RawFlagKind::Info => FlagKind::Info,
                },
                message: f.message,
                source: f.source,
                dimension,
                when,
                location: self.locate(&path),
            });
        }
        let mut invariants: Vec<Invariant> = Vec::new();
        for (i, inv) in raw.invariants.into_iter().enumerate() {
            let path = format!("invariants[{i}]");
            self.identifier(&format!("{path}.id"), &inv.id);
            if invariants.iter().any(|x| x.id == inv.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate invariant id `{}`", Shown::excerpt(&inv.id)),
                );
            }
            let when = inv.when.as_ref().map(|w| {
                let before = self.error_count();
                let node = self.condition(w, &format!("{path}.when"), &factors, 1);
                conditions_ok.push((format!("{path}.when"), node, self.error_count() == before));
                node
            });
            let top = levels.len().saturating_sub(1);
            let level_bounds = inv.expect.level.as_ref().and_then(|b| {
                let bpath = format!("{path}.expect.level");
                let given = [
                    ("at_least", &b.at_least),
                    ("at_most", &b.at_most),
                    ("is", &b.is),
                ];
                if given.iter().filter(|(_, v)| v.is_some()).count() != 1 {
                    self.error(&bpath, "give exactly one of `at_least`, `at_most` or `is`");
                    return None;
                }
                let (key, id) = given
                    .iter()
                    .find_map(|(k, v)| v.as_ref().map(|v| (*k, v)))?;
                let level = self.level_ref(&format!("{bpath}.{key}"), id, &levels)?;
                Some(match key {
                    "at_least" => (level, top),
                    "at_most" => (0, level),
                    _ => (level, level),
                })
            });
            if inv.expect.level.is_none() && inv.expect.refer.is_none() {
                self.error(
                    &format!("{path}.expect"),
                    "an invariant expects a `level` bound, `refer`, or both",
                );
            }
            invariants.push(Invariant {
                id: inv.id,
                description: inv.description,
                when,
                level_bounds,
                refer: inv.expect.refer,
                location: self.locate(&path),
            });
        }
        if rules.len() + flags.len() > limits::MAX_RULES {
            self.error(
                "rules",
                format!(
                    "{} rules and flags; the limit is {}",
                    rules.len() + flags.len(),
                    limits::MAX_RULES
                ),
            );
        }

        compute_classes(&mut factors, &self.arena, scoring.as_ref());

        // A condition that no answer set can satisfy is an error: the rule or flag is dead.
        // One search, with one evaluation budget, serves every condition.
        let mut sat = eval::Satisfiability::new(&self.arena, &factors);
        // Past the node budget the conditions were not compiled: nothing to decide.
        let dead: Vec<String> = conditions_ok
            .into_iter()
            .filter(|_| self.arena_full.is_none())
            .filter(|(_, when, ok)| *ok && !sat.satisfiable(*when))
            .map(|(path, _, _)| path)
            .collect();
        for path in dead {
            self.error(
                &path,
                "this condition can never be true: no combination of answers satisfies it",
            );
        }

        let mut rules_by_level_desc: Vec<usize> = (0..rules.len()).collect();
        rules_by_level_desc
            .sort_by_key(|&i| std::cmp::Reverse(rules.get(i).map_or(0, |r| r.level)));

        let sha256 = Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();

        let (factor_ids, answer_texts) = text_indices(&factors);
        let initial_values = factors
            .iter()
            .map(|f| match f.missing {
                MissingPolicy::Assume(code) => code,
                _ => 0,
            })
            .collect();

        let mut ruleset = Ruleset {
            meta: Metadata {
                id: raw.id,
                version: raw.version,
                title: raw.title,
                description: raw.description,
                url: raw.url,
                sources,
            },
            dimensions,
            levels,
            factors,
            factor_ids,
            answer_texts,
            initial_values,
            scoring,
            rules,
            flags,
            invariants,
            conditions: std::mem::take(&mut self.arena),
            rules_by_level_desc,
            sha256,
            table: None,
            diagram: None,
        };
        if !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
        {
            ruleset.diagram = crate::diagram::level::build(&ruleset, limits::MAX_DIAGRAM_WORK).ok();
            ruleset.table = match &ruleset.diagram {
                Some(d) => d.table(&ruleset.factors),
                None => build_level_table(&ruleset),
            };
        }
        ruleset
    }

    fn error_count(&self) -> usize {
        self.diagnostics.len() + self.skipped
    }

    fn dimensions(&mut self, raw: Vec<RawDimension>) -> Vec<Dimension> {
        if raw.len() > limits::MAX_DIMENSIONS {
            self.error(
                "dimensions",
                format!(
                    "{} dimensions; the limit is {}",
                    raw.len(),
                    limits::MAX_DIMENSIONS
                ),
            );
        }
        let mut dimensions: Vec<Dimension> = Vec::new();
        for (i, d) in raw.into_iter().enumerate() {
            let path = format!("dimensions[{i}]");
            self.identifier(&format!("{path}.id"), &d.id);
            if dimensions.iter().any(|x| x.id == d.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate dimension id `{}`", Shown::excerpt(&d.id)),
                );
            }
            self.non_empty(&format!("{path}.label"), "`label`", &d.label);
            self.non_empty(
                &format!("{path}.description"),
                "`description`",
                &d.description,
            );
            if let Some(source) = &d.source {
                self.non_empty(&format!("{path}.source"), "`source`", source);
            }
            dimensions.push(Dimension {
                id: d.id,
                label: d.label,
                description: d.description,
                source: d.source,
                location: self.locate(&path),
            });
        }
        dimensions
    }

    /// The index of the dimension `id` named by the item at `item` (`rules[3]`), or
    /// `None` (reported) when no such dimension is declared.
    fn dimension_ref(
        &mut self,
        item: &str,
        id: Option<&str>,
        dimensions: &[Dimension],
    ) -> Option<DimensionIndex> {
        let id = id?;
        let path = format!("{item}.dimension");
        let found = dimensions.iter().position(|d| d.id == id);
        if found.is_none() {
            let names: Vec<&str> = dimensions.iter().map(|d| d.id.as_str()).collect();
            let declared = if names.is_empty() {
                "the ruleset declares no `dimensions`".to_owned()
            } else {
                format!("declared dimensions: {}", names.join(", "))
            };
            self.error(
                &path,
                format!(
                    "undeclared dimension `{}`{}; {declared}",
                    Shown::excerpt(id),
                    did_you_mean(id, &names),
                ),
            );
        }
        found
    }

    fn levels(&mut self, raw: Vec<syntax::RawLevel>) -> Vec<Level> {
        if raw.is_empty() {
            self.error(
                "levels",
                "no levels declared; a ruleset needs at least one level",
            );
        }
        if raw.len() > limits::MAX_LEVELS {
            self.error(
                "levels",
                format!("{} levels; the limit is {}", raw.len(), limits::MAX_LEVELS),
            );
        }
        let mut levels: Vec<Level> = Vec::new();
        for (i, l) in raw.into_iter().enumerate() {
            let path = format!("levels[{i}]");
            self.identifier(&format!("{path}.id"), &l.id);
            if levels.iter().any(|x| x.id == l.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate level id `{}`", Shown::excerpt(&l.id)),
                );
            }
            self.non_empty(&format!("{path}.label"), "`label`", &l.label);
            levels.push(Level {
                id: l.id,
                label: l.label,
                description: l.description,
            });
        }
        levels
    }

    fn level_ref(&mut self, path: &str, id: &str, levels: &[Level]) -> Option<usize> {
        let found = levels.iter().position(|l| l.id == id);
        if found.is_none() {
            let names: Vec<&str> = levels.iter().map(|l| l.id.as_str()).collect();
            self.error(
                path,
                format!(
                    "undeclared level `{}`{}; declared levels: {}",
                    Shown::excerpt(id),
                    did_you_mean(id, &names),
                    names.join(", ")
                ),
            );
        }
        found
    }

    fn factors(&mut self, raw: Vec<RawFactor>, dimensions: &[Dimension]) -> Vec<Factor> {
        if raw.is_empty() {
            self.error(
                "factors",
                "no factors declared; a ruleset needs at least one question",
            );
        }
        if raw.len() > limits::MAX_FACTORS {
            self.error(
                "factors",
                format!(
                    "{} factors; the limit is {}",
                    raw.len(),
                    limits::MAX_FACTORS
                ),
            );
        }
        let mut factors: Vec<Factor> = Vec::new();
        for (i, f) in raw.into_iter().enumerate() {
            let path = format!("factors[{i}]");
            self.identifier(&format!("{path}.id"), &f.id);
            if factors.iter().any(|x| x.id == f.id) {
                self.error(
                    &format!("{path}.id"),
                    format!("duplicate factor id `{}`", Shown::excerpt(&f.id)),
                );
            }
            self.non_empty(&format!("{path}.question"), "`question`", &f.question);
            let kind = self.factor_kind(&path, &f);
            let dimension = self.dimension_ref(&path, f.dimension.as_deref(), dimensions);
            let mut factor = Factor {
                id: f.id,
                question: f.question,
                description: f.description,
                kind,
                missing: MissingPolicy::Ask,
                dimension,
                classes: Vec::new(),
                location: self.locate(&path),
            };
            factor.missing = match f.missing {
                None | Some(RawMissing::Ask) => MissingPolicy::Ask,
                Some(RawMissing::Error) => MissingPolicy::Error,
                Some(RawMissing::Assume(value)) => match encode_answer(&factor, &value) {
                    Ok(code) => MissingPolicy::Assume(code),
                    Err(message) => {
                        self.error(&format!("{path}.missing.assume"), message);
                        MissingPolicy::Ask
                    }
                },
            };
            factors.push(factor);
        }
        factors
    }

    fn factor_kind(&mut self, path: &str, f: &RawFactor) -> FactorKind {
        let not_for = |key: &str, kind: &str| format!("`{key}` does not apply to {kind} factors");
        match f.kind {
            RawFactorKind::Ordinal => {
                for (key, given) in [
                    ("min", f.min.is_some()),
                    ("max", f.max.is_some()),
                    ("bands", f.bands.is_some()),
                ] {
                    if given {
                        self.error(&format!("{path}.{key}"), not_for(key, "ordinal"));
                    }
                }
                let values = f.values.clone().unwrap_or_default();
                if f.values.is_none() {
                    self.error(
                        path,
                        "an ordinal factor lists its `values`, least risk first",
                    );
                } else if values.len() < 2 {
                    self.error(
                        &format!("{path}.values"),
                        "an ordinal factor needs at least two values",
                    );
                } else if values.len() > limits::MAX_ORDINAL_VALUES {
                    self.error(
                        &format!("{path}.values"),
                        format!(
                            "{} values; the limit is {}",
                            values.len(),
                            limits::MAX_ORDINAL_VALUES
                        ),
                    );
                }
                for (j, v) in values.iter().enumerate() {
                    let vpath = format!("{path}.values[{j}]");
                    self.identifier(&vpath, v);
                    if values.iter().take(j).any(|w| w == v) {
                        self.error(&vpath, format!("duplicate value `{}`", Shown::excerpt(v)));
                    }
                }
                FactorKind::Ordinal { values }
            }
            RawFactorKind::Boolean => {
                for (key, given) in [
                    ("values", f.values.is_some()),
                    ("min", f.min.is_some()),
                    ("max", f.max.is_some()),
                    ("bands", f.bands.is_some()),
                ] {
                    if given {
                        self.error(&format!("{path}.{key}"), not_for(key, "boolean"));
                    }
                }
                FactorKind::Boolean
            }
            RawFactorKind::Integer => {
                if f.values.is_some() {
                    self.error(
                        &format!("{path}.values"),
                        "`values` does not apply to integer factors; use `min`, `max` and `bands`",
                    );
                }
                let (Some(min), Some(max)) = (f.min, f.max) else {
                    let absent = match (f.min, f.max) {
                        (None, None) => "both are missing",
                        (None, _) => "`min` is missing",
                        _ => "`max` is missing",
                    };
                    self.error(
                        path,
                        format!("an integer factor declares `min` and `max`; {absent}"),
                    );
                    self.unusable.push(f.id.clone());
                    return FactorKind::Integer {
                        min: 0,
                        max: 0,
                        bands: Vec::new(),
                    };
                };
                for (key, v) in [("min", min), ("max", max)] {
                    // `unsigned_abs`: `abs` of i64::MIN overflows (a panic in debug, and a
                    // wrap to a negative that passes the check in release).
                    if v.unsigned_abs() > limits::MAX_INTEGER.unsigned_abs() {
                        self.error(
                            &format!("{path}.{key}"),
                            format!("{v} is beyond the limit of ±{}", limits::MAX_INTEGER),
                        );
                    }
                }
                if min > max {
                    self.error(
                        &format!("{path}.max"),
                        format!("`max` ({max}) is below `min` ({min})"),
                    );
                    self.unusable.push(f.id.clone());
                }
                let mut bands: Vec<Band> = Vec::new();
                if let Some(raw_bands) = &f.bands {
                    if raw_bands.is_empty() {
                        self.error(
                            &format!("{path}.bands"),
                            "`bands` is empty; omit it or declare at least one band",
                        );
                    }
                    if raw_bands.len() > limits::MAX_BANDS {
                        self.error(
                            &format!("{path}.bands"),
                            format!(
                                "{} bands; the limit is {}",
                                raw_bands.len(),
                                limits::MAX_BANDS
                            ),
                        );
                    }
                    let mut expected_min = min;
                    for (j, b) in raw_bands.iter().enumerate() {
                        let bpath = format!("{path}.bands[{j}]");
                        self.identifier(&format!("{bpath}.id"), &b.id);
                        if bands.iter().any(|x| x.id == b.id) {
                            self.error(
                                &format!("{bpath}.id"),
                                format!("duplicate band id `{}`", Shown::excerpt(&b.id)),
                            );
                        }
                        if b.min > b.max {
                            self.error(
                                &bpath,
                                format!("band `{}` has min {} above max {}", b.id, b.min, b.max),
                            );
                        }
                        if b.min > expected_min {
                            self.error(
                                &bpath,
                                format!(
                                    "gap: {} in no band (band `{}` starts at {})",
                                    span("value", expected_min, b.min.saturating_sub(1)),
                                    b.id,
                                    b.min
                                ),
                            );
                        } else if b.min < expected_min {
                            if j == 0 {
                                self.error(
                                    &bpath,
                                    format!(
                                        "band `{}` starts at {}, below the factor's min {min}",
                                        b.id, b.min
                                    ),
                                );
                            } else {
                                self.error(
                                    &bpath,
                                    format!(
                                        "overlap: band `{}` starts at {} but the previous band already covers up to {}",
                                        b.id,
                                        b.min,
                                        expected_min.saturating_sub(1)
                                    ),
                                );
                            }
                        }
                        expected_min = b.max.saturating_add(1);
                        bands.push(Band {
                            id: b.id.clone(),
                            min: b.min,
                            max: b.max,
                        });
                    }
                    if let Some(last) = bands.last() {
                        if last.max < max {
                            self.error(
                                &format!("{path}.bands"),
                                format!(
                                    "gap: {} in no band (the last band ends at {})",
                                    span("value", last.max.saturating_add(1), max),
                                    last.max
                                ),
                            );
                        } else if last.max > max {
                            self.error(
                                &format!("{path}.bands[{}]", bands.len() - 1),
                                format!(
                                    "band `{}` ends at {}, above the factor's max {max}",
                                    last.id, last.max
                                ),
                            );
                        }
                    }
                }
                FactorKind::Integer { min, max, bands }
            }
        }
    }

    /// The points of an integer factor scored `{per_unit: N}` (N points for each unit
    /// of the answer), after checking that `per_unit` is its only key, that the
    /// points stay within [`limits::MAX_POINTS`] and that its values are few enough to
    /// be classes of their own ([`limits::MAX_PER_UNIT_VALUES`]); `None` after
    /// reporting an error.
    fn per_unit(
        &mut self,
        path: &str,
        factor_id: &str,
        table: &syntax::OrderedMap<RawScalar, i64>,
        min: i64,
        max: i64,
    ) -> Option<FactorPoints> {
        let before = self.error_count();
        let mut per = None;
        for (key, pts) in &table.0 {
            let name = scalar_text(key);
            if name == PER_UNIT_KEY {
                per = Some(*pts);
            } else {
                self.error(
                    &format!("{path}.{name}"),
                    format!("`{factor_id}` earns points `per_unit`, so it cannot also earn points by band: remove `{}` or `per_unit`", Shown::excerpt(&name)),
                );
            }
        }
        let per = per?;
        let ppath = format!("{path}.{PER_UNIT_KEY}");
        let values = max.saturating_sub(min).saturating_add(1);
        if values > limits::MAX_PER_UNIT_VALUES {
            self.error(
                &ppath,
                format!(
                    "`{factor_id}` earns points per unit, so each of its {values} values ({min} to {max}) is a class of its own, above the limit of {}; narrow its range or score it by band",
                    limits::MAX_PER_UNIT_VALUES
                ),
            );
        }
        for end in [min, max] {
            let points = per.checked_mul(end);
            if points.is_none_or(|p| p.unsigned_abs() > limits::MAX_POINTS.unsigned_abs()) {
                self.error(
                    &ppath,
                    format!(
                        "at {per} points per unit the answer {end} earns {} points, beyond the limit of ±{}",
                        points.map_or_else(|| "too many".to_owned(), |p| p.to_string()),
                        limits::MAX_POINTS
                    ),
                );
                break;
            }
        }
        (self.error_count() == before).then_some(FactorPoints::PerUnit { per, min, max })
    }

    fn scoring(
        &mut self,
        raw: RawScoring,
        factors: &[Factor],
        levels: &[Level],
    ) -> Option<Scoring> {
        let before = self.error_count();
        let mut points: Vec<Option<FactorPoints>> = vec![None; factors.len()];
        for (factor_id, table) in raw.points.0 {
            let path = format!("scoring.points.{factor_id}");
            let Some(fi) = self.factor_ref(&path, &factor_id, factors) else {
                continue;
            };
            let Some(factor) = factors.get(fi) else {
                continue;
            };
            if let FactorKind::Integer { min, max, .. } = factor.kind {
                if table.0.iter().any(|(k, _)| scalar_text(k) == PER_UNIT_KEY) {
                    if let Some(p) = self.per_unit(&path, &factor_id, &table, min, max) {
                        if let Some(slot) = points.get_mut(fi) {
                            *slot = Some(p);
                        }
                    }
                    continue;
                }
            }
            let (mut codes, by_band) = match &factor.kind {
                FactorKind::Ordinal { values } => (vec![0; values.len()], false),
                FactorKind::Boolean => (vec![0; 2], false),
                FactorKind::Integer { bands, .. } => {
                    if bands.is_empty() {
                        self.error(
                            &path,
                            format!("integer factor `{factor_id}` scores by band, but declares no `bands`"),
                        );
                        continue;
                    }
                    (vec![0; bands.len()], true)
                }
            };
            for (key, pts) in table.0 {
                let kpath = format!("{path}.{}", scalar_text(&key));
                if pts.unsigned_abs() > limits::MAX_POINTS.unsigned_abs() {
                    self.error(
                        &kpath,
                        format!(
                            "{pts} points is beyond the limit of ±{}",
                            limits::MAX_POINTS
                        ),
                    );
                    continue;
                }
                let slot = if by_band {
                    let name = scalar_text(&key);
                    match &factor.kind {
                        FactorKind::Integer { bands, .. } => {
                            let found = bands.iter().position(|b| b.id == name);
                            if found.is_none() {
                                let names: Vec<&str> =
                                    bands.iter().map(|b| b.id.as_str()).collect();
                                self.error(
                                    &kpath,
                                    format!(
                                        "`{}` is not a band of `{factor_id}`; its bands are: {}",
                                        Shown::excerpt(&name),
                                        names.join(", ")
                                    ),
                                );
                            }
                            found
                        }
                        _ => None,
                    }
                } else {
                    match encode_answer(factor, &key) {
                        Ok(code) => usize::try_from(code).ok(),
                        Err(message) => {
                            self.error(&kpath, message);
                            None
                        }
                    }
                };
                if let Some(slot) = slot.and_then(|s| codes.get_mut(s)) {
                    *slot = pts;
                }
            }
            if let Some(p) = points.get_mut(fi) {
                *p = Some(if by_band {
                    FactorPoints::ByBand(codes)
                } else {
                    FactorPoints::ByCode(codes)
                });
            }
        }

        let mut scoring = Scoring {
            points,
            bands: Vec::new(),
        };
        if raw.bands.is_empty() {
            self.error(
                "scoring.bands",
                "no score bands; scoring needs bands that map totals to levels",
            );
        }
        let count = raw.bands.len();
        let mut previous_max: Option<Option<i64>> = None;
        for (i, b) in raw.bands.into_iter().enumerate() {
            let path = format!("scoring.bands[{i}]");
            let level = self.level_ref(&format!("{path}.level"), &b.level, levels);
            if b.min.is_none() && i != 0 {
                self.error(&path, "only the first band may omit `min`");
            }
            if b.max.is_none() && i + 1 != count {
                self.error(&path, "only the last band may omit `max`");
            }
            if let (Some(min), Some(max)) = (b.min, b.max) {
                if min > max {
                    self.error(&path, format!("band min {min} is above its max {max}"));
                }
            }
            if let (Some(Some(prev)), Some(min)) = (previous_max, b.min) {
                let expected = prev.saturating_add(1);
                if min > expected {
                    self.error(
                        &path,
                        format!(
                            "gap: {} in no band",
                            span("total", expected, min.saturating_sub(1))
                        ),
                    );
                } else if min < expected {
                    self.error(
                        &path,
                        format!(
                            "overlap: totals from {min} to {prev} are already in the previous band"
                        ),
                    );
                }
            }
            previous_max = Some(b.max);
            scoring.bands.push(ScoreBand {
                min: b.min,
                max: b.max,
                level: level.unwrap_or(0),
            });
        }
        // Every reachable total must land in a band.
        let (lowest, highest) = (0..factors.len()).fold((0i64, 0i64), |(lo, hi), f| {
            let (a, b) = scoring.points_range(f);
            (lo.saturating_add(a), hi.saturating_add(b))
        });
        if let Some(first) = scoring.bands.first() {
            if first.min.is_some_and(|m| lowest < m) {
                self.error(
                    "scoring.bands[0]",
                    format!("the lowest reachable total, {lowest}, is in no band (the first band starts at {})", first.min.unwrap_or(lowest)),
                );
            }
        }
        if let Some(last) = scoring.bands.last() {
            if last.max.is_some_and(|m| highest > m) {
                self.error(
                    &format!("scoring.bands[{}]", scoring.bands.len() - 1),
                    format!("the highest reachable total, {highest}, is in no band (the last band ends at {})", last.max.unwrap_or(highest)),
                );
            }
        }
        (self.error_count() == before).then_some(scoring)
    }

    fn factor_ref(&mut self, path: &str, id: &str, factors: &[Factor]) -> Option<usize> {
        let found = factors.iter().position(|f| f.id == id);
        if found.is_none() {
            let names: Vec<&str> = factors.iter().map(|f| f.id.as_str()).collect();
            self.error(
                path,
                format!(
                    "unknown factor `{}`{}; declared factors: {}",
                    Shown::excerpt(id),
                    did_you_mean(id, &names),
                    names.join(", ")
                ),
            );
        }
        found
    }

    fn push(&mut self, node: Node) -> NodeId {
        let id = u32::try_from(self.arena.nodes.len()).unwrap_or(u32::MAX);
        self.arena.nodes.push(node);
        id
    }

    fn condition(
        &mut self,
        raw: &RawCondition,
        path: &str,
        factors: &[Factor],
        depth: usize,
    ) -> NodeId {
        if let Some(full) = self.arena_full {
            return full;
        }
        if self.arena.nodes.len() >= limits::MAX_CONDITION_NODES {
            self.error(
                path,
                format!(
                    "the conditions of this ruleset compile to more than {} nodes (the limit); \
                     this condition is past it. A YAML alias (`*name`) counts as a full copy \
                     of its anchor: share fewer large conditions, or simplify them",
                    limits::MAX_CONDITION_NODES
                ),
            );
            let full = self.push(Node::Const(false));
            self.arena_full = Some(full);
            return full;
        }
        if depth > limits::MAX_CONDITION_DEPTH {
            self.error(
                path,
                format!(
                    "conditions nest deeper than {} levels",
                    limits::MAX_CONDITION_DEPTH
                ),
            );
            return self.push(Node::Const(false));
        }
        match raw {
            RawCondition::All(items) | RawCondition::Any(items) => {
                let is_all = matches!(raw, RawCondition::All(_));
                let key = if is_all { "all" } else { "any" };
                if items.is_empty() {
                    self.error(
                        &format!("{path}.{key}"),
                        format!("`{key}` needs at least one condition"),
                    );
                    return self.push(Node::Const(false));
                }
                let kids: Vec<NodeId> = items
                    .iter()
                    .enumerate()
                    .map(|(i, c)| {
                        self.condition(c, &format!("{path}.{key}[{i}]"), factors, depth + 1)
                    })
                    .collect();
                let start = u32::try_from(self.arena.children.len()).unwrap_or(u32::MAX);
                let len = u32::try_from(kids.len()).unwrap_or(u32::MAX);
                self.arena.children.extend(kids);
                self.push(if is_all {
                    Node::All { start, len }
                } else {
                    Node::Any { start, len }
                })
            }
            RawCondition::Not(inner) => {
                let kid = self.condition(inner, &format!("{path}.not"), factors, depth + 1);
                self.push(Node::Not(kid))
            }
            RawCondition::Compare {
                factor,
                op,
                operand,
            } => {
                let path = format!("{path}.{factor}");
                if factor == SCORE_KEY && !factors.iter().any(|f| f.id == SCORE_KEY) {
                    return match self.score_comparison(&path, *op, operand) {
                        Some(node) => self.push(node),
                        None => self.push(Node::Const(false)),
                    };
                }
                let Some(fi) = self.factor_ref(&path, factor, factors) else {
                    return self.push(Node::Const(false));
                };
                if self.unusable.contains(factor) {
                    self.skipped += 1;
                    return self.push(Node::Const(false));
                }
                let Some(f) = factors.get(fi) else {
                    return self.push(Node::Const(false));
                };
                match self.comparison(
                    &path,
                    f,
                    u32::try_from(fi).unwrap_or(u32::MAX),
                    *op,
                    operand,
                ) {
                    Some(node) => self.push(node),
                    None => self.push(Node::Const(false)),
                }
            }
        }
    }

    /// Compile one comparison into a leaf node; `None` after reporting an error.
    fn comparison(
        &mut self,
        path: &str,
        f: &Factor,
        fi: u32,
        op: RawOp,
        operand: &RawOperand,
    ) -> Option<Node> {
        let opath = format!("{path}.{}", op.name());
        let items: Vec<&RawScalar> = match operand {
            RawOperand::One(s) => vec![s],
            RawOperand::List(list) => list.iter().collect(),
        };
        match op {
            RawOp::In if items.is_empty() => {
                self.error(&opath, "`in` needs at least one value");
                return None;
            }
            RawOp::Between if items.len() != 2 => {
                self.error(
                    &opath,
                    format!(
                        "`between` takes exactly two values [LOW, HIGH], got {}",
                        items.len()
                    ),
                );
                return None;
            }
            _ => {}
        }
        match &f.kind {
            FactorKind::Boolean => {
                if op != RawOp::Is {
                    self.error(
                        &opath,
                        format!("`{}` does not apply to boolean factor `{}`; use `is: true` or `is: false`", op.name(), f.id),
                    );
                    return None;
                }
                let code = self.operand_code(&opath, f, items.first().copied()?)?;
                Some(Node::Mask {
                    factor: fi,
                    mask: bit(code),
                })
            }
            FactorKind::Ordinal { values } => {
                let n = values.len();
                let mut codes = Vec::new();
                for item in &items {
                    codes.push(self.operand_code(&opath, f, item)?);
                }
                let all_up_to = |k: usize| -> u64 {
                    if k >= 64 {
                        u64::MAX
                    } else {
                        bit(k) - 1
                    }
                };
                let mask = match op {
                    RawOp::Is | RawOp::In => codes.iter().fold(0u64, |m, &c| m | bit(c)),
                    RawOp::AtLeast => all_up_to(n) & !all_up_to(*codes.first()?),
                    RawOp::AtMost => all_up_to(codes.first()? + 1),
                    RawOp::Between => {
                        let (lo, hi) = (*codes.first()?, *codes.get(1)?);
                        if lo > hi {
                            self.error(&opath, format!("`between` lists {} before {}; write the lower-risk value first", render(items.first()), render(items.get(1))));
                            return None;
                        }
                        all_up_to(hi + 1) & !all_up_to(lo)
                    }
                    RawOp::Above | RawOp::Below => {
                        self.error(
                            &opath,
                            format!(
                                "`{}` applies to integer factors; for ordinal factor `{}` use `at_least` or `at_most`",
                                op.name(),
                                f.id
                            ),
                        );
                        return None;
                    }
                };
                Some(Node::Mask { factor: fi, mask })
            }
            FactorKind::Integer { min, max, bands } => {
                let (min, max) = (*min, *max);
                // Each operand as the inclusive interval it names (a number or a band).
                let mut spans = Vec::new();
                for item in &items {
                    let span = match item {
                        RawScalar::Integer(v) => {
                            if *v < min || *v > max {
                                self.error(
                                    &opath,
                                    format!(
                                        "{v} is outside the range of `{}` ({min} to {max})",
                                        f.id
                                    ),
                                );
                                return None;
                            }
                            (*v, *v)
                        }
                        RawScalar::Text(name) => match bands.iter().find(|b| &b.id == name) {
                            Some(b) => (b.min, b.max),
                            None => {
                                let names: Vec<&str> =
                                    bands.iter().map(|b| b.id.as_str()).collect();
                                self.error(
                                    &opath,
                                    if names.is_empty() {
                                        format!("expected a whole number from {min} to {max}, got `{}` (`{}` has no bands)", Shown::excerpt(name), f.id)
                                    } else {
                                        format!("expected a whole number from {min} to {max} or a band ({}), got `{}`", names.join(", "), Shown::excerpt(name))
                                    },
                                );
                                return None;
                            }
                        },
                        RawScalar::Boolean(b) => {
                            self.error(
                                &opath,
                                format!("expected a whole number from {min} to {max}, got {b}"),
                            );
                            return None;
                        }
                    };
                    spans.push(span);
                }
                let first = *spans.first()?;
                let (lo, hi) = match op {
                    RawOp::Is => first,
                    RawOp::AtLeast => (first.0, max),
                    RawOp::AtMost => (min, first.1),
                    RawOp::Above => (first.1.saturating_add(1), max),
                    RawOp::Below => (min, first.0.saturating_sub(1)),
                    RawOp::Between => {
                        let second = *spans.get(1)?;
                        if first.0 > second.1 {
                            self.error(&opath, format!("`between` runs from {} down to {}; write the lower bound first", render(items.first()), render(items.get(1))));
                            return None;
                        }
                        (first.0, second.1)
                    }
                    RawOp::In => {
                        let start = u32::try_from(self.arena.ranges.len()).unwrap_or(u32::MAX);
                        let len = u32::try_from(spans.len()).unwrap_or(u32::MAX);
                        self.arena.ranges.extend(spans);
                        return Some(Node::Ranges {
                            factor: fi,
                            start,
                            len,
                        });
                    }
                };
                if lo > hi {
                    self.error(
                        &opath,
                        format!("this comparison can never be true: `{}` answers run from {min} to {max}", f.id),
                    );
                    return None;
                }
                Some(Node::Range { factor: fi, lo, hi })
            }
        }
    }

    /// Compile a comparison on the total score (`{score: {at_least: 20}}`) into a
    /// [`Node::Score`]; `None` after reporting an error.
    fn score_comparison(&mut self, path: &str, op: RawOp, operand: &RawOperand) -> Option<Node> {
        match self.scoring {
            ScoringState::Ready => {}
            ScoringState::Broken => {
                self.skipped += 1;
                return None;
            }
            ScoringState::Absent => {
                self.error(
                    path,
                    "`score` tests the total score, but this ruleset has no `scoring` section; add `scoring` with points and bands, or name a question",
                );
                return None;
            }
        }
        let opath = format!("{path}.{}", op.name());
        let items: Vec<&RawScalar> = match operand {
            RawOperand::One(s) => vec![s],
            RawOperand::List(list) => list.iter().collect(),
        };
        let table = &self.arena.score;
        let (tmin, tmax) = table.range.iter().fold((0i64, 0i64), |(a, b), &(lo, hi)| {
            (a.saturating_add(lo), b.saturating_add(hi))
        });
        let mut totals = Vec::new();
        for item in &items {
            match item {
                RawScalar::Integer(v) => totals.push(*v),
                other => {
                    let got = match other {
                        RawScalar::Text(t) => format!("`{}`", Shown::excerpt(t)),
                        _ => scalar_text(other),
                    };
                    self.error(
                        &opath,
                        format!(
                            "expected a whole number (a total score; totals run from {tmin} to {tmax}), got {got}"
                        ),
                    );
                    return None;
                }
            }
        }
        match op {
            RawOp::In if totals.is_empty() => {
                self.error(&opath, "`in` needs at least one value");
                return None;
            }
            RawOp::Between if totals.len() != 2 => {
                self.error(
                    &opath,
                    format!(
                        "`between` takes exactly two values [LOW, HIGH], got {}",
                        totals.len()
                    ),
                );
                return None;
            }
            _ => {}
        }
        let first = *totals.first()?;
        let spans: Vec<(i64, i64)> = match op {
            RawOp::Is => vec![(first, first)],
            RawOp::In => totals.iter().map(|&v| (v, v)).collect(),
            RawOp::AtLeast => vec![(first, tmax)],
            RawOp::AtMost => vec![(tmin, first)],
            RawOp::Above => vec![(first.saturating_add(1), tmax)],
            RawOp::Below => vec![(tmin, first.saturating_sub(1))],
            RawOp::Between => {
                let second = *totals.get(1)?;
                if first > second {
                    self.error(
                        &opath,
                        format!("`between` runs from {first} down to {second}; write the lower bound first"),
                    );
                    return None;
                }
                vec![(first, second)]
            }
        };
        if spans.iter().all(|&(lo, hi)| lo > hi) {
            self.error(
                &opath,
                format!("this comparison can never be true: totals run from {tmin} to {tmax}"),
            );
            return None;
        }
        let start = u32::try_from(self.arena.ranges.len()).unwrap_or(u32::MAX);
        let len = u32::try_from(spans.len()).unwrap_or(u32::MAX);
        self.arena.ranges.extend(spans);
        Some(Node::Score { start, len })
    }

    /// The code of an ordinal or boolean operand, after reporting an error if it is not in the scale.
    fn operand_code(&mut self, path: &str, f: &Factor, item: &RawScalar) -> Option<usize> {
        match encode_answer(f, item) {
            Ok(code) => usize::try_from(code).ok(),
            Err(message) => {
                self.error(path, message);
                None
            }
        }
    }
}

/// The mask bit of value code `code` (0 beyond the 64-value limit, which is reported elsewhere).
fn bit(code: usize) -> u64 {
    u32::try_from(code)
        .ok()
        .and_then(|c| 1u64.checked_shl(c))
        .unwrap_or(0)
}

fn render(s: Option<&&RawScalar>) -> String {
    s.map_or_else(String::new, |s| s.to_string())
}

fn scalar_text(s: &RawScalar) -> String {
    match s {
        RawScalar::Text(t) => t.clone(),
        RawScalar::Integer(i) => i.to_string(),
        RawScalar::Boolean(b) => b.to_string(),
    }
}

/// Encode an answer given as a YAML/JSON scalar into the factor's value code,
/// or say what is allowed.
pub(crate) fn encode_answer(f: &Factor, value: &RawScalar) -> Result<i64, String> {
    match &f.kind {
        FactorKind::Ordinal { values } => {
            let text = scalar_text(value);
            values
                .iter()
                .position(|v| *v == text)
                .and_then(|i| i64::try_from(i).ok())
                .ok_or_else(|| {
                    let names: Vec<&str> = values.iter().map(String::as_str).collect();
                    format!(
                        "{value} is not one of {}{}",
                        values.join(", "),
                        did_you_mean(&text, &names)
                    )
                })
        }
        FactorKind::Integer { min, max, .. } => match value {
            RawScalar::Integer(v) if (*min..=*max).contains(v) => Ok(*v),
            RawScalar::Integer(v) => {
                Err(format!("{v} is outside the allowed range {min} to {max}"))
            }
            RawScalar::Text(t) if t.trim().parse::<i64>().is_ok() => Err(format!(
                "expected a whole number from {min} to {max}, got the text \"{}\" (write {} without quotes)",
                Shown::excerpt(t),
                t.trim()
            )),
            RawScalar::Text(t) if is_integer_literal(t) => Err(format!(
                "expected a whole number from {min} to {max}, got {}, which is too large: at most {}",
                Shown::excerpt(t.trim()),
                i64::MAX
            )),
            other => Err(format!(
                "expected a whole number from {min} to {max}, got {other}"
            )),
        },
        FactorKind::Boolean => match value {
            RawScalar::Boolean(b) => Ok(i64::from(*b)),
            RawScalar::Text(t) if matches!(t.to_ascii_lowercase().as_str(), "true" | "false") => {
                Err(format!(
                    "expected true or false, got the text `{}`; write {} without quotes",
                    Shown::excerpt(t),
                    t.to_ascii_lowercase()
                ))
            }
            other => Err(format!("expected true or false, got {other}")),
        },
    }
}

/// `value 4 is` or `values 4 to 9 are`, in words a clinician reads (not `4..=9`).
fn span(noun: &str, lo: i64, hi: i64) -> String {
    if lo == hi {
        format!("{noun} {lo} is")
    } else {
        format!("{noun}s {lo} to {hi} are")
    }
}

/// Whether `t` is written as a whole number (an optional sign and digits), whatever its size.
fn is_integer_literal(t: &str) -> bool {
    let digits = t.trim().trim_start_matches(['-', '+']);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// ` (did you mean `x`?)` when a close name exists, else empty.
pub(crate) fn did_you_mean(given: &str, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| (edit_distance(given, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4) && *d < n.len())
        .min()
        .map_or_else(String::new, |(_, n)| format!(" (did you mean `{n}`?)"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = usize::from(ca != *cb);
            let next = (prev + cost)
                .min(above.saturating_add(1))
                .min(left.saturating_add(1));
            prev = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = next;
            }
        }
    }
    row.last().copied().unwrap_or(0)
}

/// Tabulate the level of every class combination by the rule walk, if the space is
/// small enough: only when the level diagram was over its budget (it paints the table
/// far more cheaply).
pub(crate) fn build_level_table(rs: &Ruleset) -> Option<LevelTable> {
    let counts: Vec<usize> = rs.factors.iter().map(|f| f.classes.len()).collect();
    let size = counts.iter().try_fold(1usize, |acc, &n| {
        acc.checked_mul(n).filter(|&s| s <= limits::MAX_LEVEL_TABLE)
    })?;
    // Each entry is one rule walk and one pass over the refer flags, which together
    // visit at most every condition node.
    let work = u64::try_from(size.saturating_mul(rs.conditions.nodes.len().max(1))).ok()?;
    if work > limits::MAX_LEVEL_TABLE_WORK {
        return None;
    }
    let mut strides = vec![1usize; counts.len()];
    for f in (0..counts.len().saturating_sub(1)).rev() {
        let next =
            strides.get(f + 1).copied().unwrap_or(1) * counts.get(f + 1).copied().unwrap_or(1);
        if let Some(s) = strides.get_mut(f) {
            *s = next;
        }
    }
    let mut values: Vec<i64> = rs
        .factors
        .iter()
        .map(|f| f.classes.first().copied().unwrap_or(0))
        .collect();
    let mut digits = vec![0usize; counts.len()];
    let mut levels = Vec::with_capacity(size);
    for _ in 0..size {
        let level = u8::try_from(rs.level_of_codes_walk(&values))
            .ok()
            .filter(|l| l & LevelTable::REFER == 0)?;
        let refer = rs.refer_of_codes_walk(&values);
        levels.push(if refer {
            level | LevelTable::REFER
        } else {
            level
        });
        // Odometer increment, last factor fastest.
        for f in (0..counts.len()).rev() {
            let (Some(d), Some(&n)) = (digits.get_mut(f), counts.get(f)) else {
                break;
            };
            *d += 1;
            let wrapped = *d == n;
            if wrapped {
                *d = 0;
            }
            if let (Some(v), Some(factor)) = (values.get_mut(f), rs.factors.get(f)) {
                *v = factor.classes.get(*d).copied().unwrap_or(0);
            }
            if !wrapped {
                break;
            }
        }
    }
    Some(LevelTable { strides, levels })
}

/// Integer thresholds per factor: every interval boundary in `arena` and in bands.
pub(crate) fn integer_cuts(factors: &[Factor], arena: &ConditionArena) -> Vec<Vec<i64>> {
    let mut cuts: Vec<Vec<i64>> = vec![Vec::new(); factors.len()];
    let mut add = |factor: u32, lo: i64, hi: i64| {
        if let Some(c) = usize::try_from(factor).ok().and_then(|f| cuts.get_mut(f)) {
            c.push(lo);
            c.push(hi.saturating_add(1));
        }
    };
    for node in &arena.nodes {
        match *node {
            Node::Range { factor, lo, hi } => add(factor, lo, hi),
            Node::Ranges { factor, start, len } => {
                let (s, l) = (start as usize, len as usize);
                for &(lo, hi) in arena.ranges.get(s..s + l).unwrap_or(&[]) {
                    add(factor, lo, hi);
                }
            }
            _ => {}
        }
    }
    for (f, factor) in factors.iter().enumerate() {
        if let (FactorKind::Integer { bands, min, max }, Some(c)) = (&factor.kind, cuts.get_mut(f))
        {
            for b in bands {
                c.push(b.min);
                c.push(b.max.saturating_add(1));
            }
            // Points per unit differ from value to value: each value is a class (the
            // compiler caps how many there are, `limits::MAX_PER_UNIT_VALUES`).
            if arena.score.per_unit.get(f).is_some_and(Option::is_some)
                && max.saturating_sub(*min) < limits::MAX_PER_UNIT_VALUES
            {
                c.extend(*min..=*max);
            }
        }
    }
    cuts
}

/// Fill in every factor's value classes (see [`Factor::classes`]), using the
/// thresholds of `arena` and of the bands (which scoring may use).
pub(crate) fn compute_classes(
    factors: &mut [Factor],
    arena: &ConditionArena,
    _scoring: Option<&Scoring>,
) {
    let cuts = integer_cuts(factors, arena);
    for (factor, cuts) in factors.iter_mut().zip(cuts) {
        factor.classes = classes_with_cuts(factor, &cuts);
    }
}

/// Class representatives of `factor` given integer thresholds `cuts` (ignored for other kinds).
pub(crate) fn classes_with_cuts(factor: &Factor, cuts: &[i64]) -> Vec<i64> {
    match &factor.kind {
        FactorKind::Ordinal { values } => (0..values.len())
            .filter_map(|i| i64::try_from(i).ok())
            .collect(),
        FactorKind::Boolean => vec![0, 1],
        FactorKind::Integer { min, max, .. } => {
            let mut reps: Vec<i64> = std::iter::once(*min)
                .chain(cuts.iter().copied().filter(|c| c > min && c <= max))
                .collect();
            reps.sort_unstable();
            reps.dedup();
            reps
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_suggests_close_names() {
        assert_eq!(
            did_you_mean("sevrity", &["severity", "housing"]),
            " (did you mean `severity`?)"
        );
        assert_eq!(did_you_mean("zzz", &["severity", "housing"]), "");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("abc", "abc"), 0);
    }

    #[test]
    fn url_must_be_an_absolute_uri_without_bar_or_fragment() {
        for good in [
            "https://example.org/rulesets/default",
            "urn:carelevel:test",
            "urn:oid:1.2.3",
            "http://x",
        ] {
            assert_eq!(check_url(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "example.org/rules",
            "1http://x",
            "https:",
            "https://example.org/a b",
            "https://example.org/a|1.0",
            "https://example.org/a#frag",
            "https://example.org/a/",
            "ht_tp://x",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}

#[cfg(test)]
mod semantic_tests {
    use crate::{Ruleset, Severity};

    const HEAD: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\n";

    fn errors(body: &str) -> Vec<(String, usize, String)> {
        let text = format!("{HEAD}{body}");
        let err = Ruleset::from_yaml(&text).unwrap_err();
        err.diagnostics
            .into_iter()
            .map(|d| {
                assert_eq!(d.severity, Severity::Error);
                (
                    d.path.unwrap_or_default(),
                    d.location.map_or(0, |l| l.line),
                    d.message,
                )
            })
            .collect()
    }

    #[test]
    fn every_semantic_error_is_reported_with_path_and_line() {
        let body = "\
levels:
  - {id: low, label: Low, description: l}
  - {id: high, label: High, description: h}
  - {id: low, label: Again, description: dup}
factors:
  - id: housing
    kind: ordinal
    question: Q
    values: [stable, unstable, homeless]
  - id: score
    kind: integer
    question: Q
    min: 0
    max: 10
    bands:
      - {id: a, min: 0, max: 3}
      - {id: b, min: 5, max: 10}
rules:
  - id: r1
    when:
      any:
        - housing: homeless
        - housng: unstable
    level: high
    because: B
  - id: r1
    when: {housing: {at_least: homelss}}
    level: hihg
    because: B
  - id: r3
    when: {all: [{housing: stable}, {housing: homeless}]}
    level: high
    because: B
";
        let errs = errors(body);
        let find = |path: &str| {
            errs.iter()
                .find(|(p, _, _)| p == path)
                .unwrap_or_else(|| panic!("no error at {path}: {errs:#?}"))
        };
        let dup_level = find("levels[2].id");
        assert_eq!(dup_level.1, 8);
        assert!(dup_level.2.contains("duplicate level id `low`"));
        let gap = find("factors[1].bands[1]");
        assert_eq!(gap.1, 21);
        assert!(gap.2.contains("gap: value 4 is in no band"), "{}", gap.2);
        let unknown = find("rules[0].when.any[1].housng");
        assert_eq!(unknown.1, 27);
        assert!(unknown
            .2
            .contains("unknown factor `housng` (did you mean `housing`?)"));
        assert!(find("rules[1].id").2.contains("duplicate rule id `r1`"));
        let value = find("rules[1].when.housing.at_least");
        assert!(
            value.2.contains(
                "`homelss` is not one of stable, unstable, homeless (did you mean `homeless`?)"
            ),
            "{}",
            value.2
        );
        assert!(find("rules[1].level")
            .2
            .contains("undeclared level `hihg` (did you mean `high`?)"));
        let never = find("rules[2].when");
        assert_eq!(never.1, 35);
        assert!(never.2.contains("can never be true"));
        // Sorted by location.
        let lines: Vec<usize> = errs.iter().map(|e| e.1).collect();
        let mut sorted = lines.clone();
        sorted.sort_unstable();
        assert_eq!(lines, sorted);
    }

    #[test]
    fn empty_levels_and_factors_are_errors() {
        let errs = errors("levels: []\nfactors: []\nrules: []\n");
        assert!(errs
            .iter()
            .any(|e| e.0 == "levels" && e.2.contains("at least one level")));
        assert!(errs
            .iter()
            .any(|e| e.0 == "factors" && e.2.contains("at least one question")));
    }

    const SMALL: &str = "levels:\n  - {id: low, label: Low, description: l}\nfactors:\n  - {id: b, kind: boolean, question: Q}\nrules: []\n";

    #[test]
    fn url_is_kept_and_a_bad_url_is_an_error_at_its_line() {
        let text = format!("{HEAD}url: https://example.org/rules/t\n{SMALL}");
        let rules = Ruleset::from_yaml(&text).unwrap();
        assert_eq!(
            rules.metadata().url.as_deref(),
            Some("https://example.org/rules/t")
        );
        let rules = Ruleset::from_yaml(&format!("{HEAD}{SMALL}")).unwrap();
        assert_eq!(rules.metadata().url, None);
        let errs = errors(&format!("url: example.org/t|2\n{SMALL}"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "url");
        assert_eq!(errs[0].1, 5);
        assert!(errs[0].2.contains("has no scheme"), "{}", errs[0].2);
    }

    #[test]
    fn yaml_syntax_error_has_line_and_column() {
        let err = Ruleset::from_yaml("id: t\nlevels: [\n  - a\n").unwrap_err();
        let d = &err.diagnostics[0];
        assert!(d.location.is_some(), "{d:?}");
    }

    #[test]
    fn integer_comparisons_check_ranges_and_bands() {
        let body = "\
levels: [{id: low, label: L, description: l}, {id: high, label: H, description: h}]
factors:
  - {id: ciwa, kind: integer, question: Q, min: 0, max: 67, bands: [{id: mild, min: 0, max: 9}, {id: severe, min: 10, max: 67}]}
  - {id: flag, kind: boolean, question: Q}
rules:
  - {id: a, when: {ciwa: {at_least: 80}}, level: high, because: B}
  - {id: b, when: {ciwa: {above: 67}}, level: high, because: B}
  - {id: c, when: {ciwa: {is: extreme}}, level: high, because: B}
  - {id: d, when: {flag: {at_least: true}}, level: high, because: B}
  - {id: e, when: {ciwa: {between: [severe, mild]}}, level: high, because: B}
";
        let errs = errors(body);
        let msg = |path: &str| {
            errs.iter()
                .find(|e| e.0 == path)
                .map(|e| e.2.clone())
                .unwrap_or_default()
        };
        assert!(msg("rules[0].when.ciwa.at_least")
            .contains("80 is outside the range of `ciwa` (0 to 67)"));
        assert!(msg("rules[1].when.ciwa.above").contains("can never be true"));
        assert!(msg("rules[2].when.ciwa.is").contains("or a band (mild, severe), got `extreme`"));
        assert!(msg("rules[3].when.flag.at_least").contains("does not apply to boolean factor"));
        assert!(msg("rules[4].when.ciwa.between").contains("write the lower bound first"));
    }

    #[test]
    fn score_bands_must_cover_every_reachable_total() {
        let body = "\
levels: [{id: low, label: L, description: l}, {id: high, label: H, description: h}]
factors:
  - {id: s, kind: ordinal, question: Q, values: [a, b, c]}
scoring:
  points: {s: {b: 2, c: 5}}
  bands:
    - {level: low, min: 0, max: 1}
    - {level: high, min: 3, max: 4}
rules: []
";
        let errs = errors(body);
        assert!(
            errs.iter()
                .any(|e| e.0 == "scoring.bands[1]" && e.2.contains("gap: total 2 is in no band")),
            "{errs:#?}"
        );
        assert!(
            errs.iter().any(|e| e
                .2
                .contains("the highest reachable total, 5, is in no band")),
            "{errs:#?}"
        );
    }

    /// Found by review for the fuzz targets: `abs()` of i64::MIN overflowed (a panic in
    /// debug builds; in release it wrapped negative and slipped past the limit).
    #[test]
    fn most_negative_integer_is_refused_as_beyond_the_limit() {
        let errs = errors(
            "levels: [{id: low, label: L, description: l}]
factors:
  - {id: n, kind: integer, question: Q, min: -9223372036854775808, max: 0}
  - {id: s, kind: ordinal, question: Q, values: [a, b]}
scoring:
  points: {s: {a: -9223372036854775808}}
  bands: [{level: low}]
rules: []
",
        );
        assert!(
            errs.iter().any(|e| e.0 == "factors[0].min"
                && e.2.contains("-9223372036854775808 is beyond the limit")),
            "{errs:#?}"
        );
        assert!(
            errs.iter().any(|e| e.0 == "scoring.points.s.a"
                && e.2
                    .contains("-9223372036854775808 points is beyond the limit")),
            "{errs:#?}"
        );
    }

    #[test]
    fn valid_ruleset_with_assume_policy_and_bands_compiles() {
        let text = format!("{HEAD}levels: [{{id: low, label: L, description: l}}, {{id: high, label: H, description: h}}]
factors:
  - {{id: ciwa, kind: integer, question: Q, min: 0, max: 67, bands: [{{id: mild, min: 0, max: 9}}, {{id: severe, min: 10, max: 67}}]}}
  - {{id: flag, kind: boolean, question: Q, missing: {{assume: false}}}}
rules:
  - {{id: a, when: {{any: [{{ciwa: {{at_least: severe}}}}, {{flag: true}}]}}, level: high, because: B}}
");
        let rs = Ruleset::from_yaml(&text).unwrap();
        let mut a = rs.new_answers();
        a.set("ciwa", 9).unwrap();
        assert_eq!(rs.level(&a).unwrap().id, "low");
        a.set("ciwa", 10).unwrap();
        assert_eq!(rs.level(&a).unwrap().id, "high");
        let assessment = rs.assess(&a).unwrap();
        assert_eq!(assessment.assumed.len(), 1);
        assert_eq!(assessment.assumed[0].factor, "flag");
    }

    const DIMENSIONED: &str = "dimensions:
  - {id: withdrawal, label: Withdrawal, description: W, source: 'Some criteria, Dimension 1'}
  - {id: environment, label: Environment, description: E}
levels: [{id: low, label: L, description: l}, {id: high, label: H, description: h}]
factors:
  - {id: w, kind: ordinal, question: Q, values: [none, high], dimension: withdrawal}
  - {id: home, kind: boolean, question: Q}
rules:
  - {id: r, when: {w: high}, level: high, because: B, dimension: withdrawal}
flags:
  - {id: f, kind: info, when: {home: true}, message: M, dimension: environment}
";

    #[test]
    fn dimensions_are_kept_in_order_and_items_name_them() {
        let rs = Ruleset::from_yaml(&format!("{HEAD}{DIMENSIONED}")).unwrap();
        let ids: Vec<&str> = rs.dimensions().iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["withdrawal", "environment"]);
        assert_eq!(
            rs.dimensions()[0].source.as_deref(),
            Some("Some criteria, Dimension 1")
        );
        assert_eq!(rs.dimensions()[1].source, None);
        assert_eq!(rs.dimensions()[1].location.map(|l| l.line), Some(7));
        assert_eq!(rs.factors()[0].dimension, Some(0));
        assert_eq!(rs.factors()[1].dimension, None);
        assert_eq!(rs.rules()[0].dimension, Some(0));
        assert_eq!(rs.flags()[0].dimension, Some(1));
        // Without `dimensions:` nothing is tagged.
        let rs = Ruleset::from_yaml(&format!("{HEAD}{SMALL}")).unwrap();
        assert!(rs.dimensions().is_empty());
    }

    #[test]
    fn unknown_and_duplicate_dimensions_are_errors_at_their_line() {
        let body = DIMENSIONED
            .replace("id: environment, label", "id: withdrawal, label")
            .replace("dimension: environment}", "dimension: enviroment}")
            .replace(
                "values: [none, high], dimension: withdrawal",
                "values: [none, high], dimension: widthdrawal",
            );
        let errs = errors(&body);
        assert_eq!(errs.len(), 3, "{errs:#?}");
        let find = |path: &str| {
            errs.iter()
                .find(|(p, _, _)| p == path)
                .unwrap_or_else(|| panic!("no error at {path}: {errs:#?}"))
        };
        let dup = find("dimensions[1].id");
        assert_eq!(dup.1, 7);
        assert!(
            dup.2.contains("duplicate dimension id `withdrawal`"),
            "{}",
            dup.2
        );
        let factor = find("factors[0].dimension");
        assert_eq!(factor.1, 10);
        assert!(
            factor.2.contains(
                "undeclared dimension `widthdrawal` (did you mean `withdrawal`?); declared dimensions: withdrawal, withdrawal"
            ),
            "{}",
            factor.2
        );
        let flag = find("flags[0].dimension");
        assert_eq!(flag.1, 15);
        assert!(
            flag.2.contains("undeclared dimension `enviroment`"),
            "{}",
            flag.2
        );
    }

    #[test]
    fn a_dimension_named_without_any_declared_is_an_error() {
        let body = SMALL.replace("question: Q}", "question: Q, dimension: biomedical}");
        let errs = errors(&body);
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert_eq!(errs[0].0, "factors[0].dimension");
        assert_eq!(errs[0].1, 8);
        assert!(
            errs[0].2.contains(
                "undeclared dimension `biomedical`; the ruleset declares no `dimensions`"
            ),
            "{}",
            errs[0].2
        );
    }

    #[test]
    fn dimension_entries_are_checked_like_levels() {
        let errs = errors(&format!(
            "dimensions:\n  - {{id: Bad Id, label: ' ', description: d}}\n  - {{id: x, label: X}}\n{SMALL}"
        ));
        // The missing `description` is a YAML-shape error: reported alone, with its line.
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(errs[0].2.contains("description"), "{errs:#?}");
        assert_eq!(errs[0].1, 7, "{errs:#?}");
        let errs = errors(&format!(
            "dimensions:\n  - {{id: Bad Id, label: ' ', description: d}}\n{SMALL}"
        ));
        assert!(
            errs.iter().any(|e| e.0 == "dimensions[0].id" && e.1 == 6),
            "{errs:#?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.0 == "dimensions[0].label" && e.2.contains("must not be empty")),
            "{errs:#?}"
        );
        let errs = errors(&format!(
            "dimensions:\n  - {{id: x, label: X, description: d, sorce: s}}\n{SMALL}"
        ));
        assert_eq!(errs.len(), 1, "{errs:#?}");
        assert!(
            errs[0]
                .2
                .contains("unknown key `sorce` (did you mean `source`?)"),
            "{errs:#?}"
        );
        assert_eq!(errs[0].1, 6, "{errs:#?}");
    }
}

/// The lookup tables of factor ids, and of (factor id, answer text) for every
/// ordinal value and boolean spelling. The limits keep every index and code within
/// `u32`.
fn text_indices(factors: &[Factor]) -> (crate::lookup::TextIndex, crate::lookup::TextIndex) {
    let ids = crate::lookup::TextIndex::new(
        factors
            .iter()
            .zip(0u64..)
            .map(|(f, i)| (f.id.as_str(), "", i)),
    );
    let answers = crate::lookup::TextIndex::new(factors.iter().zip(0u64..).flat_map(|(f, i)| {
        let texts: Vec<(&str, u64)> = match &f.kind {
            FactorKind::Ordinal { values } => {
                values.iter().map(String::as_str).zip(0u64..).collect()
            }
            FactorKind::Boolean => crate::answers::BOOLEAN_SPELLINGS.to_vec(),
            FactorKind::Integer { .. } => Vec::new(),
        };
        texts
            .into_iter()
            .map(move |(text, code)| (f.id.as_str(), text, i << 32 | code))
    }));
    (ids, answers)
}
