//! The venue's logins: a file of `username:password` lines, readable by its owner only
//! (mode 0600), as SoupBinTCP's fields allow (username up to 6, password up to 10 characters).
//! A participant's id is its line's index among the logins.

use std::path::{Path, PathBuf};

use kestrel_gateway::soupbin::{Password, Username};

/// Why the credentials file was refused.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// It could not be read.
    #[error("reading credentials {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Group or others may read or write it.
    #[error(
        "credentials {path} has mode {mode:o}: it must be readable by its owner only (chmod 600)"
    )]
    Mode {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A line that is not `username:password` within SoupBinTCP's field widths.
    #[error("credentials {path} line {line}: {reason}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong (the password is never shown).
        reason: &'static str,
    },
    /// No login in the file.
    #[error("credentials {path}: no username:password line")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

/// The venue's logins, in file order.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    logins: Vec<(Username, Password)>,
}

impl Credentials {
    /// Reads `path` (mode 0600 required).
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let io = |source| CredentialsError::Io {
            path: path.to_owned(),
            source,
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(io)?.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                return Err(CredentialsError::Mode {
                    path: path.to_owned(),
                    mode,
                });
            }
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::parse(&text).map_err(|(line, reason)| match reason {
            "" => CredentialsError::Empty {
                path: path.to_owned(),
            },
            reason => CredentialsError::Line {
                path: path.to_owned(),
                line,
                reason,
            },
        })
    }

    /// Parses the file's text: `(line, reason)` on error (reason empty: no login at all).
    pub fn parse(text: &str) -> Result<Self, (usize, &'static str)> {
        let mut logins = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((user, pass)) = line.split_once(':') else {
                return Err((i + 1, "expected username:password"));
            };
            let user = Username::new(user.trim()).filter(|_| !user.trim().is_empty());
            let Some(user) = user else {
                return Err((i + 1, "username must be 1 to 6 printable characters"));
            };
            let Some(pass) = Password::new(pass.trim()) else {
                return Err((i + 1, "password must be at most 10 printable characters"));
            };
            if logins
                .iter()
                .any(|(u, _): &(Username, Password)| *u == user)
            {
                return Err((i + 1, "username listed twice"));
            }
            logins.push((user, pass));
        }
        if logins.is_empty() {
            return Err((0, ""));
        }
        Ok(Self { logins })
    }

    /// Number of logins.
    pub fn len(&self) -> usize {
        self.logins.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.logins.is_empty()
    }

    /// The participant id of a login whose password matches.
    pub fn authenticate(&self, user: &Username, pass: &Password) -> Option<u32> {
        self.logins
            .iter()
            .position(|(u, p)| u == user && p.matches(pass))
            .map(|i| i as u32)
    }

    /// The username of a participant.
    pub fn username(&self, participant: u32) -> Option<&str> {
        self.logins
            .get(participant as usize)
            .map(|(u, _)| u.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_authenticates() {
        let c = Credentials::parse("# venue logins\nalice:secret1\nbob:pw\n").unwrap();
        assert_eq!(c.len(), 2);
        let (u, p) = (Username::new("bob").unwrap(), Password::new("pw").unwrap());
        assert_eq!(c.authenticate(&u, &p), Some(1));
        assert_eq!(c.authenticate(&u, &Password::new("nope").unwrap()), None);
        assert_eq!(Credentials::parse("x").unwrap_err().0, 1);
        assert_eq!(Credentials::parse("toolongname:a").unwrap_err().0, 1);
        assert_eq!(Credentials::parse("a:b\na:c").unwrap_err().0, 2);
        assert_eq!(Credentials::parse("\n# only comments\n").unwrap_err().1, "");
    }

    #[test]
    fn refuses_a_file_others_can_read() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ksim-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("creds");
        std::fs::write(&f, "alice:pw\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Credentials::load(&f).unwrap_err().to_string();
        assert!(e.contains("644") && !e.contains("pw"), "{e}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Credentials::load(&f).unwrap().len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
