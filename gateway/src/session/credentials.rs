//! Order-entry credentials: from the environment or from a file only its owner can read.
//!
//! The file holds one `username:password` line and must not be readable or writable by group
//! or others (mode 0600 or stricter); anything else is refused before it is read. The
//! password is kept as a [`Password`], whose `Debug` is redacted and which has no `Display`:
//! it is never printed, logged or written to a session directory.

use crate::soupbin::{Password, Username};
use std::path::{Path, PathBuf};

/// The environment variable holding the username.
pub const ENV_USERNAME: &str = "KESTREL_OUCH_USERNAME";
/// The environment variable holding the password.
pub const ENV_PASSWORD: &str = "KESTREL_OUCH_PASSWORD";

/// A username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Username (up to 6 characters).
    pub username: Username,
    /// Password (up to 10 characters; redacted in `Debug`).
    pub password: Password,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password)
            .finish()
    }
}

/// Why credentials could not be loaded. No variant carries the password.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read.
    #[error("credentials file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Group or others may read or write the file.
    #[error(
        "credentials file {path} has mode {mode:04o}: it must be 0600 (readable by its owner only)"
    )]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// No `username:password` line.
    #[error("credentials file {path}: expected one `username:password` line")]
    Format {
        /// The file.
        path: PathBuf,
    },
    /// A username longer than 6 or a password longer than 10 characters, or not printable
    /// ASCII.
    #[error("{field} must be 1 to {max} printable ASCII characters")]
    Field {
        /// Which.
        field: &'static str,
        /// Its maximum length.
        max: usize,
    },
    /// The environment variables are not set.
    #[error("set {ENV_USERNAME} and {ENV_PASSWORD}, or give a credentials file")]
    NoEnvironment,
}

impl Credentials {
    /// From a username and password.
    pub fn new(username: &str, password: &str) -> Result<Self, CredentialsError> {
        if username.is_empty() {
            return Err(CredentialsError::Field {
                field: "username",
                max: 6,
            });
        }
        let username = Username::new(username).ok_or(CredentialsError::Field {
            field: "username",
            max: 6,
        })?;
        let password = Password::new(password).ok_or(CredentialsError::Field {
            field: "password",
            max: 10,
        })?;
        Ok(Self { username, password })
    }

    /// From a `username:password` file of mode 0600 (or stricter).
    pub fn from_file(path: &Path) -> Result<Self, CredentialsError> {
        use std::os::unix::fs::PermissionsExt;
        let io = |source| CredentialsError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(io)?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CredentialsError::Permissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let line = lines.next().ok_or_else(|| CredentialsError::Format {
            path: path.to_path_buf(),
        })?;
        let (user, pass) = line
            .split_once(':')
            .ok_or_else(|| CredentialsError::Format {
                path: path.to_path_buf(),
            })?;
        Self::new(user, pass)
    }

    /// From [`ENV_USERNAME`] and [`ENV_PASSWORD`].
    pub fn from_env() -> Result<Self, CredentialsError> {
        let user = std::env::var(ENV_USERNAME).map_err(|_| CredentialsError::NoEnvironment)?;
        let pass = std::env::var(ENV_PASSWORD).map_err(|_| CredentialsError::NoEnvironment)?;
        Self::new(&user, &pass)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn file_mode_is_enforced_and_the_password_never_shows() {
        let dir = std::env::temp_dir().join(format!("kestrel-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("creds");
        std::fs::write(&f, "TRADER:s3cretpw\n").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Credentials::from_file(&f).unwrap_err();
        assert!(e.to_string().contains("0644"), "{e}");
        assert!(!e.to_string().contains("s3cretpw"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        let c = Credentials::from_file(&f).unwrap();
        assert_eq!(c.username.as_str(), "TRADER");
        assert!(c.password.matches(&Password::new("s3cretpw").unwrap()));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cretpw"), "{shown}");
        std::fs::write(&f, "no colon here\n").unwrap();
        assert!(matches!(
            Credentials::from_file(&f),
            Err(CredentialsError::Format { .. })
        ));
        std::fs::write(&f, "TOOLONGUSER:x\n").unwrap();
        assert!(matches!(
            Credentials::from_file(&f),
            Err(CredentialsError::Field {
                field: "username",
                ..
            })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
