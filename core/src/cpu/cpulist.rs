//! The kernel's CPU list format (`0-3,8,10-11`).

/// A CPU list that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid CPU list {text:?} at item {item}")]
pub struct CpuListError {
    /// The whole list.
    pub text: String,
    /// Zero-based index of the bad comma-separated item.
    pub item: usize,
}

/// Largest range accepted (guards against a corrupt file asking for billions of CPUs).
const MAX_CPUS: usize = 1 << 16;

/// Parses a kernel CPU list (`isolated`, `nohz_full`, `online`); empty or blank means none.
/// Returns the CPUs sorted and without duplicates.
pub fn parse_cpu_list(text: &str) -> Result<Vec<usize>, CpuListError> {
    let err = |item| CpuListError {
        text: text.to_owned(),
        item,
    };
    let mut cpus = Vec::new();
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed == "(null)" {
        return Ok(cpus);
    }
    for (item, part) in trimmed.split(',').enumerate() {
        let part = part.trim();
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<usize>(), b.trim().parse::<usize>()),
            None => (part.parse::<usize>(), part.parse::<usize>()),
        };
        let (lo, hi) = match (lo, hi) {
            (Ok(lo), Ok(hi)) if lo <= hi && hi < MAX_CPUS => (lo, hi),
            _ => return Err(err(item)),
        };
        cpus.extend(lo..=hi);
    }
    cpus.sort_unstable();
    cpus.dedup();
    Ok(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ranges_and_singles() {
        assert_eq!(parse_cpu_list("").unwrap(), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("\n").unwrap(), Vec::<usize>::new());
        assert_eq!(parse_cpu_list("3").unwrap(), vec![3]);
        assert_eq!(
            parse_cpu_list("0-3,8,10-11\n").unwrap(),
            vec![0, 1, 2, 3, 8, 10, 11]
        );
        assert_eq!(parse_cpu_list("2,1,2").unwrap(), vec![1, 2]);
        assert_eq!(parse_cpu_list("1,x").unwrap_err().item, 1);
        assert!(parse_cpu_list("3-1").is_err());
        assert!(parse_cpu_list("0-99999999").is_err());
    }
}
