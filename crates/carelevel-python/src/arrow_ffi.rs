//! The Arrow PyCapsule interface: import record batches from any object with
//! `__arrow_c_stream__` or `__arrow_c_array__` (pyarrow, pandas, Polars, DuckDB, ...),
//! and export results as an object with `__arrow_c_stream__`, which `pyarrow.table`
//! (and `polars.from_arrow`) read without a copy.
//!
//! The only unsafe code of the crate is here: moving the C structs out of the capsules.
// reason: the Arrow C data interface hands over raw pointers in PyCapsules; each `unsafe`
// block below states why the pointer is valid.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use arrow_array::ffi::{from_ffi, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{RecordBatch, RecordBatchIterator, StructArray};
use arrow_schema::{ArrowError, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods, PyTuple};

const STREAM: &CStr = c"arrow_array_stream";
const SCHEMA: &CStr = c"arrow_schema";
const ARRAY: &CStr = c"arrow_array";

fn arrow_err(e: &ArrowError) -> PyErr {
    PyValueError::new_err(format!("cannot read the Arrow data: {e}"))
}

/// Every record batch of `data`, with its schema.
pub(crate) fn import(data: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if data.hasattr("__arrow_c_stream__")? {
        let capsule = data.call_method0("__arrow_c_stream__")?;
        let capsule = capsule.cast::<PyCapsule>()?;
        let ptr = capsule.pointer_checked(Some(STREAM))?;
        // SAFETY: a capsule named `arrow_array_stream` holds a valid `ArrowArrayStream`
        // (Arrow PyCapsule interface). `from_raw` moves it out and leaves a released
        // stream behind, so the capsule's destructor does not release it again.
        let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
        let reader = ArrowArrayStreamReader::try_new(stream).map_err(|e| arrow_err(&e))?;
        let schema = arrow_array::RecordBatchReader::schema(&reader);
        let batches = reader
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| arrow_err(&e))?;
        return Ok((schema, batches));
    }
    if data.hasattr("__arrow_c_array__")? {
        let pair = data.call_method0("__arrow_c_array__")?;
        let pair = pair.cast::<PyTuple>()?;
        let schema_capsule = pair.get_item(0)?;
        let schema_capsule = schema_capsule.cast::<PyCapsule>()?;
        let array_capsule = pair.get_item(1)?;
        let array_capsule = array_capsule.cast::<PyCapsule>()?;
        let schema_ptr = schema_capsule.pointer_checked(Some(SCHEMA))?;
        let array_ptr = array_capsule.pointer_checked(Some(ARRAY))?;
        // SAFETY: the capsules hold a valid `ArrowSchema` and `ArrowArray`. The schema is
        // only borrowed (its capsule keeps and releases it); the array is moved out and a
        // released one left behind, as the interface prescribes.
        let data = unsafe {
            let schema: &FFI_ArrowSchema = &*schema_ptr.as_ptr().cast::<FFI_ArrowSchema>();
            let array = FFI_ArrowArray::from_raw(array_ptr.as_ptr().cast());
            from_ffi(array, schema)
        }
        .map_err(|e| arrow_err(&e))?;
        if !matches!(data.data_type(), arrow_schema::DataType::Struct(_)) {
            return Err(PyTypeError::new_err(format!(
                "expected a table or record batch (an Arrow struct array), got an array of {}",
                data.data_type()
            )));
        }
        let batch = RecordBatch::from(StructArray::from(data));
        return Ok((batch.schema(), vec![batch]));
    }
    Err(PyTypeError::new_err(format!(
        "expected a pyarrow Table or RecordBatch, a pandas or Polars DataFrame, or any object \
         with `__arrow_c_stream__` or `__arrow_c_array__`; got `{}`",
        data.get_type().name()?
    )))
}

/// Record batches offered through `__arrow_c_stream__`, once.
#[pyclass(module = "carelevel", frozen)]
pub struct ArrowStream {
    stream: Mutex<Option<FFI_ArrowArrayStream>>,
}

impl ArrowStream {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> ArrowStream {
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), Arc::clone(&schema));
        ArrowStream {
            stream: Mutex::new(Some(FFI_ArrowArrayStream::new(Box::new(reader)))),
        }
    }
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule stream protocol; the stream can be taken once.
    #[pyo3(signature = (requested_schema = None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is fixed; a consumer that asked for another one casts afterwards.
        let _ = requested_schema;
        let stream = self
            .stream
            .lock()
            .map_err(|_| PyValueError::new_err("the result stream is unusable"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("the result stream was already read"))?;
        // Dropping the capsule drops the stream, which releases it unless the consumer
        // moved it out (then its release callback is null and nothing happens).
        PyCapsule::new_with_value(py, stream, STREAM)
    }
}
