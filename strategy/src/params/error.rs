//! Why a parameter file was rejected: the field path and the reason.

use std::path::PathBuf;

/// A rejected parameter file. The parameters in force before the load stay in force.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The file could not be read.
    #[error("cannot read parameter file {file}: {source}")]
    Io {
        /// The file.
        file: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("TOML syntax error at line {line}: {reason}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// What the parser said.
        reason: String,
    },
    /// A field is missing, unknown, of the wrong type or out of range.
    #[error("field `{path}` at line {line}: {reason}")]
    Field {
        /// Dotted path of the field, e.g. `limits.max_position`.
        path: String,
        /// 1-based line the error points at (0 when not known).
        line: usize,
        /// Why it was rejected.
        reason: String,
    },
}

impl ParamsError {
    /// A range or consistency error for `path` (no line: it comes from validation).
    pub(crate) fn field(path: &str, reason: impl Into<String>) -> Self {
        Self::Field {
            path: path.to_owned(),
            line: 0,
            reason: reason.into(),
        }
    }

    /// The dotted field path, when the error is about one field.
    pub fn field_path(&self) -> Option<&str> {
        match self {
            Self::Field { path, .. } => Some(path),
            _ => None,
        }
    }
}
