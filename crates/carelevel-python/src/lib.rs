//! Python bindings of carelevel: the native module `carelevel._carelevel`, re-exported by
//! the `carelevel` Python package (`python/carelevel/__init__.py`).
//!
//! Every decision is the core's: this crate converts Python and Arrow values to answers,
//! calls the core, and converts the results back. One module per concept:
//! `errors` (the exception types), `convert` (Python answers), `ruleset` (the `Ruleset`
//! class), `table` (columnar assessment), `arrow_ffi` (the Arrow PyCapsule interface),
//! `tools` (check, diff, schema).

use pyo3::prelude::*;

mod arrow_ffi;
mod convert;
mod errors;
mod ruleset;
mod table;
mod tools;

/// The native module; see the `carelevel` package for the documented API.
#[pymodule]
fn _carelevel(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("RulesetError", py.get_type::<errors::RulesetError>())?;
    m.add("AnswersError", py.get_type::<errors::AnswersError>())?;
    m.add("EvaluationError", py.get_type::<errors::EvaluationError>())?;
    m.add_class::<ruleset::Ruleset>()?;
    m.add_class::<arrow_ffi::ArrowStream>()?;
    m.add_function(wrap_pyfunction!(tools::diff, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
