//! `carelevel describe`: a ruleset's levels, questions, allowed answers and counts.

use std::io::{self, Write};

use carelevel::text::Shown;
use carelevel::{Factor, FactorKind, MissingPolicy, Ruleset};
use serde::Serialize;

use crate::input::{self, RulesArg};
use crate::render;
use crate::ExitCode;

/// Output format of `describe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Plain text for people.
    Text,
    /// A structured JSON object.
    Json,
    /// The JSON object as YAML.
    Yaml,
    /// A review document: every question, rule condition in words, flag and invariant
    /// (with whether it is proved), version and SHA-256.
    Markdown,
    /// The review document as one self-contained HTML page.
    Html,
}

/// Arguments of `carelevel describe`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The ruleset to describe.
    #[command(flatten)]
    pub rules: RulesArg,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Print the ruleset's YAML source instead (the bundled default without `--rules`),
    /// to start a ruleset of your own from it. It is printed only if it compiles.
    #[arg(long, conflicts_with = "format")]
    pub source: bool,
}

/// The JSON form of a ruleset description.
#[derive(Debug, Serialize)]
struct Description<'a> {
    id: &'a str,
    version: &'a str,
    title: &'a str,
    description: &'a str,
    sha256: &'a str,
    sources: Vec<SourceOut<'a>>,
    /// Declared dimensions; left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    dimensions: Vec<DimensionOut<'a>>,
    /// Least intensive first.
    levels: Vec<LevelOut<'a>>,
    factors: Vec<FactorOut<'a>>,
    rules: usize,
    flags: usize,
    invariants: usize,
    score_bands: usize,
}

/// One `sources:` citation.
#[derive(Debug, Serialize)]
struct SourceOut<'a> {
    id: &'a str,
    citation: &'a str,
}

/// One dimension, with the ids of the questions, rules and flags tagged with it.
#[derive(Debug, Serialize)]
struct DimensionOut<'a> {
    id: &'a str,
    label: &'a str,
    description: &'a str,
    source: Option<&'a str>,
    factors: Vec<&'a str>,
    rules: Vec<&'a str>,
    flags: Vec<&'a str>,
}

/// One level.
#[derive(Debug, Serialize)]
struct LevelOut<'a> {
    id: &'a str,
    rank: usize,
    label: &'a str,
    description: &'a str,
}

/// One factor (question).
#[derive(Debug, Serialize)]
struct FactorOut<'a> {
    id: &'a str,
    /// `ordinal`, `integer` or `boolean`.
    kind: &'static str,
    question: &'a str,
    description: Option<&'a str>,
    /// The allowed answers in words.
    allowed_answers: String,
    /// Ordinal scale, least risk first.
    #[serde(skip_serializing_if = "Option::is_none")]
    values: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bands: Option<Vec<BandOut<'a>>>,
    missing: MissingOut,
    /// The id of its dimension, when it names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    dimension: Option<&'a str>,
}

/// A band of an integer factor.
#[derive(Debug, Serialize)]
struct BandOut<'a> {
    id: &'a str,
    min: i64,
    max: i64,
}

/// The missing-answer policy.
#[derive(Debug, Serialize)]
struct MissingOut {
    /// `ask`, `error` or `assume`.
    policy: &'static str,
    /// The assumed answer, for `assume`.
    #[serde(skip_serializing_if = "Option::is_none")]
    assume: Option<carelevel::Value>,
}

/// The kind as written in rulesets.
fn kind_name(kind: &FactorKind) -> &'static str {
    match kind {
        FactorKind::Ordinal { .. } => "ordinal",
        FactorKind::Integer { .. } => "integer",
        FactorKind::Boolean => "boolean",
    }
}

/// The missing policy, with an assumed value rendered as the answer a person would give.
fn missing(factor: &Factor) -> MissingOut {
    match factor.missing {
        MissingPolicy::Ask => MissingOut {
            policy: "ask",
            assume: None,
        },
        MissingPolicy::Error => MissingOut {
            policy: "error",
            assume: None,
        },
        MissingPolicy::Assume(code) => MissingOut {
            policy: "assume",
            assume: Some(factor.value_of(code)),
        },
    }
}

/// The ids of the items tagged with dimension `dimension`, in declaration order.
fn tagged<'a>(
    items: impl Iterator<Item = (Option<usize>, &'a String)>,
    dimension: usize,
) -> Vec<&'a str> {
    items
        .filter(|(d, _)| *d == Some(dimension))
        .map(|(_, id)| id.as_str())
        .collect()
}

/// Collect the description of `ruleset`.
fn describe(ruleset: &Ruleset) -> Description<'_> {
    let meta = ruleset.metadata();
    Description {
        id: &meta.id,
        version: &meta.version,
        title: &meta.title,
        description: &meta.description,
        sha256: ruleset.sha256(),
        sources: meta
            .sources
            .iter()
            .map(|s| SourceOut {
                id: &s.id,
                citation: &s.citation,
            })
            .collect(),
        dimensions: ruleset
            .dimensions()
            .iter()
            .enumerate()
            .map(|(i, d)| DimensionOut {
                id: &d.id,
                label: &d.label,
                description: &d.description,
                source: d.source.as_deref(),
                factors: tagged(ruleset.factors().iter().map(|f| (f.dimension, &f.id)), i),
                rules: tagged(ruleset.rules().iter().map(|r| (r.dimension, &r.id)), i),
                flags: tagged(ruleset.flags().iter().map(|f| (f.dimension, &f.id)), i),
            })
            .collect(),
        levels: ruleset
            .levels()
            .iter()
            .enumerate()
            .map(|(rank, l)| LevelOut {
                id: &l.id,
                rank,
                label: &l.label,
                description: &l.description,
            })
            .collect(),
        factors: ruleset
            .factors()
            .iter()
            .map(|f| {
                let (values, min, max, bands) = match &f.kind {
                    FactorKind::Ordinal { values } => (Some(values.as_slice()), None, None, None),
                    FactorKind::Integer { min, max, bands } => (
                        None,
                        Some(*min),
                        Some(*max),
                        Some(
                            bands
                                .iter()
                                .map(|b| BandOut {
                                    id: &b.id,
                                    min: b.min,
                                    max: b.max,
                                })
                                .collect(),
                        ),
                    ),
                    FactorKind::Boolean => (None, None, None, None),
                };
                FactorOut {
                    id: &f.id,
                    kind: kind_name(&f.kind),
                    question: &f.question,
                    description: f.description.as_deref(),
                    allowed_answers: f.allowed_answers(),
                    values,
                    min,
                    max,
                    bands,
                    missing: missing(f),
                    dimension: f
                        .dimension
                        .and_then(|d| ruleset.dimensions().get(d))
                        .map(|d| d.id.as_str()),
                }
            })
            .collect(),
        rules: ruleset.rules().len(),
        flags: ruleset.flags().len(),
        invariants: ruleset.invariants().len(),
        score_bands: ruleset.score_bands().map_or(0, <[_]>::len),
    }
}

/// Run `carelevel describe`.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<ExitCode> {
    let (source, ruleset) = match input::choose_ruleset_with_source(&args.rules, err)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    if args.source {
        out.write_all(source.text.as_bytes())?;
        return Ok(ExitCode::Success);
    }
    let d = describe(&ruleset);
    match args.format {
        Format::Json => match serde_json::to_string_pretty(&d) {
            Ok(json) => writeln!(out, "{json}")?,
            Err(e) => {
                return input::usage_error(err, &format!("cannot serialize the description: {e}"))
            }
        },
        Format::Yaml => match serde_yaml::to_string(&d) {
            Ok(yaml) => out.write_all(yaml.as_bytes())?,
            Err(e) => {
                return input::usage_error(err, &format!("cannot serialize the description: {e}"))
            }
        },
        Format::Text => text(out, &d)?,
        Format::Markdown => {
            out.write_all(
                crate::describe_doc::markdown(&crate::describe_doc::document(&ruleset)).as_bytes(),
            )?;
        }
        Format::Html => {
            out.write_all(
                crate::describe_doc::html_page(&crate::describe_doc::document(&ruleset)).as_bytes(),
            )?;
        }
    }
    Ok(ExitCode::Success)
}

/// The plain-text description.
fn text(out: &mut dyn Write, d: &Description<'_>) -> io::Result<()> {
    writeln!(
        out,
        "{} {}: {}",
        d.id,
        Shown::full(d.version),
        Shown::full(d.title)
    )?;
    writeln!(out, "sha256: {}", d.sha256)?;
    writeln!(out)?;
    render::write_wrapped(out, "", "", d.description)?;

    if !d.sources.is_empty() {
        writeln!(out)?;
        writeln!(out, "Sources:")?;
        for s in &d.sources {
            let first = format!("  {}: ", s.id);
            render::write_wrapped(out, &first, "      ", s.citation)?;
        }
    }

    if !d.dimensions.is_empty() {
        writeln!(out)?;
        writeln!(out, "Dimensions ({}):", d.dimensions.len())?;
        for dim in &d.dimensions {
            writeln!(out, "  {}: {}", dim.id, Shown::full(dim.label))?;
            render::write_wrapped(out, "      ", "      ", dim.description)?;
            if let Some(source) = dim.source {
                render::write_wrapped(out, "      source: ", "        ", source)?;
            }
            for (what, ids) in [
                ("questions", &dim.factors),
                ("rules", &dim.rules),
                ("flags", &dim.flags),
            ] {
                let list = if ids.is_empty() {
                    "none".to_owned()
                } else {
                    ids.join(", ")
                };
                render::write_wrapped(out, &format!("      {what}: "), "        ", &list)?;
            }
        }
    }

    writeln!(out)?;
    writeln!(out, "Levels (least to most intensive):")?;
    for l in &d.levels {
        writeln!(out, "  {}. {}: {}", l.rank + 1, l.id, Shown::full(l.label))?;
        render::write_wrapped(out, "       ", "       ", l.description)?;
    }

    writeln!(out)?;
    writeln!(out, "Factors ({}):", d.factors.len())?;
    for (i, f) in d.factors.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let policy = match &f.missing.assume {
            Some(value) => format!("assume {value}"),
            None => f.missing.policy.to_owned(),
        };
        writeln!(out, "  {} ({}; if missing: {policy})", f.id, f.kind)?;
        render::write_wrapped(out, "      ", "      ", f.question)?;
        render::write_wrapped(out, "      answers: ", "        ", &f.allowed_answers)?;
        if let Some(bands) = f.bands.as_ref().filter(|b| !b.is_empty()) {
            let bands: Vec<String> = bands
                .iter()
                .map(|b| format!("{} {} to {}", b.id, b.min, b.max))
                .collect();
            render::write_wrapped(out, "      bands: ", "        ", &bands.join(", "))?;
        }
        if let Some(dimension) = f.dimension {
            writeln!(out, "      dimension: {dimension}")?;
        }
        if let Some(description) = f.description {
            render::write_wrapped(out, "      ", "      ", description)?;
        }
    }

    writeln!(out)?;
    writeln!(out, "Rules: {}", d.rules)?;
    writeln!(out, "Flags: {}", d.flags)?;
    writeln!(out, "Invariants: {}", d.invariants)?;
    if d.score_bands > 0 {
        writeln!(out, "Score bands: {}", d.score_bands)?;
    }
    Ok(())
}
