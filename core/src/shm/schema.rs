//! The feature schema: the names of the features, in record order. Both sides must agree on
//! it exactly; the segment stores the names and their hash, and a sidecar whose model was
//! trained on another schema is refused.

use super::error::ShmError;
use super::layout::{FEATURE_CAPACITY, NAME_BYTES};
use crate::book::StableHasher;

/// Ordered feature names (ASCII, 1 to 31 bytes each, at most [`FEATURE_CAPACITY`] of them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureSchema {
    names: Vec<String>,
}

impl FeatureSchema {
    /// A schema from names, checked.
    pub fn new<S: AsRef<str>>(names: &[S]) -> Result<Self, ShmError> {
        if names.is_empty() || names.len() > FEATURE_CAPACITY {
            return Err(ShmError::SchemaSize {
                count: names.len(),
                capacity: FEATURE_CAPACITY,
            });
        }
        let mut out = Vec::with_capacity(names.len());
        for (index, n) in names.iter().enumerate() {
            let n = n.as_ref();
            let ok =
                !n.is_empty() && n.len() < NAME_BYTES && n.bytes().all(|b| b.is_ascii_graphic());
            if !ok {
                return Err(ShmError::SchemaName {
                    index,
                    name: n.to_owned(),
                });
            }
            out.push(n.to_owned());
        }
        Ok(Self { names: out })
    }

    /// The names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false (a schema has at least one feature).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// FNV-1a over the names, each followed by a NUL byte.
    pub fn hash(&self) -> u64 {
        let mut h = StableHasher::new();
        for n in &self.names {
            h.write(n.as_bytes());
            h.write(&[0]);
        }
        h.finish()
    }

    /// The names as the header's fixed table.
    pub(crate) fn to_table(&self) -> [[u8; NAME_BYTES]; FEATURE_CAPACITY] {
        let mut t = [[0u8; NAME_BYTES]; FEATURE_CAPACITY];
        for (row, n) in t.iter_mut().zip(&self.names) {
            row[..n.len()].copy_from_slice(n.as_bytes());
        }
        t
    }

    /// A schema from the header's table (`count` names), checked like [`Self::new`].
    pub(crate) fn from_table(
        table: &[[u8; NAME_BYTES]; FEATURE_CAPACITY],
        count: usize,
    ) -> Result<Self, ShmError> {
        let names: Vec<String> = table
            .iter()
            .take(count.min(FEATURE_CAPACITY))
            .map(|row| {
                let end = row.iter().position(|&b| b == 0).unwrap_or(NAME_BYTES);
                String::from_utf8_lossy(&row[..end]).into_owned()
            })
            .collect();
        if count > FEATURE_CAPACITY {
            return Err(ShmError::SchemaSize {
                count,
                capacity: FEATURE_CAPACITY,
            });
        }
        Self::new(&names)
    }

    /// The first difference from `other`, described for an error message; `None` if equal.
    pub fn difference(&self, other: &Self) -> Option<String> {
        for (i, (a, b)) in self.names.iter().zip(&other.names).enumerate() {
            if a != b {
                return Some(format!("feature {i} is `{a}` here, `{b}` there"));
            }
        }
        (self.len() != other.len())
            .then(|| format!("{} features here, {} there", self.len(), other.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_round_trip_and_hash() {
        let s = FeatureSchema::new(&["a", "bb", "ccc"]).unwrap();
        let t = s.to_table();
        let back = FeatureSchema::from_table(&t, 3).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.hash(), s.hash());
        let other = FeatureSchema::new(&["a", "bb", "cc"]).unwrap();
        assert_ne!(other.hash(), s.hash());
        assert_eq!(
            s.difference(&other).unwrap(),
            "feature 2 is `ccc` here, `cc` there"
        );
        let shorter = FeatureSchema::new(&["a", "bb"]).unwrap();
        assert_eq!(s.difference(&shorter).unwrap(), "3 features here, 2 there");
        assert!(s.difference(&back).is_none());
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(FeatureSchema::new::<&str>(&[]).is_err());
        assert!(FeatureSchema::new(&[""]).is_err());
        assert!(FeatureSchema::new(&["has space"]).is_err());
        assert!(FeatureSchema::new(&["x".repeat(32)]).is_err());
        let many: Vec<String> = (0..65).map(|i| format!("f{i}")).collect();
        assert!(FeatureSchema::new(&many).is_err());
    }
}
