//! The served rulesets: one compiled, immutable [`Served`] per id behind an atomic
//! pointer. A request takes the `Arc` once and keeps it to the end, so a reload
//! never changes the version a request is answered with. A reload recompiles every
//! ruleset; one that fails is refused (its error is reported) and the old compiled
//! version keeps serving.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use arc_swap::ArcSwap;
use carelevel::Ruleset;
use carelevel_fhir::canonical::Canonical;

use crate::config::{RulesetOrigin, RulesetSpec};

/// One compiled ruleset being served.
#[derive(Debug)]
pub struct Served {
    /// The id in the routes.
    pub id: String,
    /// Where it was read from (for messages).
    pub source: String,
    /// The compiled ruleset.
    pub ruleset: Ruleset,
    /// Its canonical URLs.
    pub canonical: Canonical,
}

/// The rulesets by id.
pub type Snapshot = BTreeMap<String, Arc<Served>>;

/// A ruleset that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ruleset `{source_name}`: {message}")]
pub struct LoadError {
    /// The file (or `<bundled default>`).
    pub source_name: String,
    /// What went wrong (the compiler's diagnostics, each with line).
    pub message: String,
}

/// What one reload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// `(id, old version, new version)` for each ruleset now serving its new text.
    pub reloaded: Vec<(String, String, String)>,
    /// Rulesets refused: the old version keeps serving.
    pub refused: Vec<LoadError>,
}

/// A check every ruleset must pass before it is served, at start-up and on
/// reload (e.g. that the decision log's masking names only its questions); the
/// error says why it is refused.
#[derive(Clone)]
pub struct Admission(pub Arc<AdmissionCheck>);

/// The check of an [`Admission`].
pub type AdmissionCheck = dyn Fn(&Ruleset) -> Result<(), String> + Send + Sync;

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admission(..)")
    }
}

/// The served rulesets and how to reload them.
#[derive(Debug)]
pub struct Registry {
    specs: Vec<RulesetSpec>,
    current: ArcSwap<Snapshot>,
    /// One reload at a time.
    reloading: Mutex<()>,
    admission: Option<Admission>,
}

impl Registry {
    /// Load every ruleset; any failure (or two rulesets with one id) is an error.
    pub fn load(specs: Vec<RulesetSpec>) -> Result<Registry, Vec<LoadError>> {
        Registry::load_admitting(specs, None)
    }

    /// [`Registry::load`], where every ruleset must also pass `admission`, now and on
    /// every reload.
    pub fn load_admitting(
        specs: Vec<RulesetSpec>,
        admission: Option<Admission>,
    ) -> Result<Registry, Vec<LoadError>> {
        let mut map = Snapshot::new();
        let mut errors = Vec::new();
        for spec in &specs {
            match compile(spec, admission.as_ref()) {
                Ok(served) => {
                    if map.contains_key(&served.id) {
                        errors.push(LoadError {
                            source_name: served.source.clone(),
                            message: format!(
                                "its id `{}` is already served by another ruleset; serve each id once",
                                served.id
                            ),
                        });
                    } else {
                        map.insert(served.id.clone(), Arc::new(served));
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Registry {
            specs,
            current: ArcSwap::from_pointee(map),
            reloading: Mutex::new(()),
            admission,
        })
    }

    /// The rulesets now, as one consistent snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// One ruleset now.
    pub fn get(&self, id: &str) -> Option<Arc<Served>> {
        self.current.load().get(id).cloned()
    }

    /// Recompile every ruleset from its source and swap in those that compile (with
    /// their old id) in one atomic step. Blocking (reads files): call it off the
    /// async workers.
    pub fn reload(&self) -> ReloadReport {
        let _one = self
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let old = self.current.load_full();
        let mut next = (*old).clone();
        let mut report = ReloadReport::default();
        for spec in &self.specs {
            let old_served = old.values().find(|s| same_spec(spec, s));
            match compile(spec, self.admission.as_ref()) {
                Ok(served) => {
                    let Some(old_served) = old_served else {
                        continue;
                    };
                    if served.id != old_served.id {
                        report.refused.push(LoadError {
                            source_name: served.source.clone(),
                            message: format!(
                                "its id changed from `{}` to `{}`; an id cannot change on reload (restart to serve it under a new id)",
                                old_served.id, served.id
                            ),
                        });
                        continue;
                    }
                    report.reloaded.push((
                        served.id.clone(),
                        old_served.ruleset.metadata().version.clone(),
                        served.ruleset.metadata().version.clone(),
                    ));
                    next.insert(served.id.clone(), Arc::new(served));
                }
                Err(e) => report.refused.push(e),
            }
        }
        self.current.store(Arc::new(next));
        report
    }
}

/// Whether `served` was loaded from `spec`.
fn same_spec(spec: &RulesetSpec, served: &Served) -> bool {
    served.source == source_name(&spec.origin) && spec.id.as_ref().is_none_or(|id| *id == served.id)
}

fn source_name(origin: &RulesetOrigin) -> String {
    match origin {
        RulesetOrigin::Bundled => "<bundled default>".to_owned(),
        RulesetOrigin::File(path) => {
            carelevel::text::Shown::full(&path.display().to_string()).to_string()
        }
    }
}

/// Read and compile one ruleset, and check it passes `admission`.
fn compile(spec: &RulesetSpec, admission: Option<&Admission>) -> Result<Served, LoadError> {
    let source = source_name(&spec.origin);
    let fail = |message: String| LoadError {
        source_name: source.clone(),
        message,
    };
    let text = match &spec.origin {
        RulesetOrigin::Bundled => carelevel::DEFAULT_RULESET.to_owned(),
        RulesetOrigin::File(path) => {
            let limit = carelevel::limits::MAX_SOURCE_BYTES;
            let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
            if meta.len() > limit as u64 {
                return Err(fail(format!(
                    "it is {} bytes; the limit is {limit} bytes",
                    meta.len()
                )));
            }
            std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?
        }
    };
    let ruleset = Ruleset::from_yaml(&text).map_err(|e| fail(e.to_string()))?;
    let own_id = ruleset.metadata().id.clone();
    if let Some(id) = &spec.id {
        if *id != own_id {
            return Err(fail(format!(
                "it is configured as `{id}` but its `id:` is `{own_id}`; the two must be equal"
            )));
        }
    }
    if let Some(Admission(admit)) = admission {
        admit(&ruleset).map_err(fail)?;
    }
    Ok(Served {
        id: own_id,
        source,
        canonical: Canonical::of(&ruleset),
        ruleset,
    })
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a panic is a failed test"
    )]

    use super::*;

    const V1: &str = "id: t\nversion: '1'\ntitle: T\ndescription: D\nlevels:\n  - {id: low, label: Low, description: l}\n  - {id: high, label: High, description: h}\nfactors:\n  - {id: risk, kind: ordinal, question: Q, values: [none, some]}\nrules:\n  - {id: r, when: {risk: some}, level: high, because: B}\n";

    #[test]
    fn reload_swaps_good_rulesets_and_keeps_the_old_one_on_failure() {
        let dir = std::env::temp_dir().join(format!("carelevel-registry-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("t.yaml");
        std::fs::write(&file, V1).unwrap();
        let reg = Registry::load(vec![RulesetSpec {
            id: None,
            origin: RulesetOrigin::File(file.clone()),
        }])
        .unwrap();
        let before = reg.get("t").unwrap();
        assert_eq!(before.ruleset.metadata().version, "1");

        std::fs::write(&file, V1.replace("'1'", "'2'")).unwrap();
        let report = reg.reload();
        assert_eq!(
            report.reloaded,
            vec![("t".to_owned(), "1".to_owned(), "2".to_owned())]
        );
        assert_eq!(reg.get("t").unwrap().ruleset.metadata().version, "2");
        // A request holding the old Arc still sees version 1.
        assert_eq!(before.ruleset.metadata().version, "1");

        std::fs::write(&file, "id: t\nlevels: [").unwrap();
        let report = reg.reload();
        assert!(report.reloaded.is_empty());
        assert_eq!(report.refused.len(), 1);
        assert_eq!(reg.get("t").unwrap().ruleset.metadata().version, "2");

        std::fs::write(&file, V1.replace("id: t", "id: u")).unwrap();
        let report = reg.reload();
        assert!(
            report.refused[0].message.contains("id changed"),
            "{report:?}"
        );
        assert!(reg.get("u").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn configured_id_must_match_and_ids_are_unique() {
        let e = Registry::load(vec![RulesetSpec {
            id: Some("other".into()),
            origin: RulesetOrigin::Bundled,
        }])
        .unwrap_err();
        assert!(e[0].message.contains("must be equal"), "{e:?}");
        let e = Registry::load(vec![
            RulesetSpec {
                id: None,
                origin: RulesetOrigin::Bundled,
            },
            RulesetSpec {
                id: None,
                origin: RulesetOrigin::Bundled,
            },
        ])
        .unwrap_err();
        assert!(e[0].message.contains("already served"), "{e:?}");
    }
}
