//! Which folders are sockstack's: the ownership marker, the content hash it
//! records, and the adoption of folders an earlier sockstack wrote before markers existed.
//!
//! Nothing here follows a symbolic link: every path is looked at with
//! `symlink_metadata`, and a link is never treated as a folder or a file.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// File name of the marker inside every folder sockstack creates.
pub const MARKER: &str = ".sockstack-output";

/// First line of every marker.
const HEADER: &str =
    "sockstack output: sockstack created this folder and replaces it whole; do not edit it.";

/// A marker is a few lines; anything longer is not one of ours.
const MARKER_MAX: u64 = 4096;

/// Text of a marker; `hash` is the content hash of the folder's files (none for control folders).
pub fn marker_text(hash: Option<&str>) -> String {
    match hash {
        Some(h) => format!("{HEADER}\nsha256 {h}\n"),
        None => format!("{HEADER}\n"),
    }
}

/// Content hash of a stack folder's files (the marker excluded), independent of their order.
pub fn content_hash(files: &[(String, String)]) -> String {
    let mut sorted: Vec<_> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = Sha256::new();
    for (name, contents) in sorted {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update((contents.len() as u64).to_le_bytes());
        hasher.update(contents.as_bytes());
    }
    crate::sources::hex(&hasher.finalize())
}

/// What is at a path sockstack wants to replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Nothing.
    Absent,
    /// A folder with a valid marker; its recorded content hash, if any.
    Owned(Option<String>),
    /// A folder without a marker holding exactly what an earlier sockstack wrote
    /// (`summary.txt` and `template.yaml` or `template.json`): replacing it is safe.
    Adoptable,
    /// Anything else: sockstack must not replace it. The reason, for the error.
    Foreign(String),
}

/// Looks at `path` without following links.
pub fn inspect(path: &Path) -> io::Result<Found> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        return Ok(Found::Foreign(
            "it is a symbolic link (sockstack never follows links when replacing folders)".into(),
        ));
    }
    if !meta.is_dir() {
        return Ok(Found::Foreign("it is a file, not a folder".into()));
    }
    if let Some(hash) = read_marker(&path.join(MARKER))? {
        return Ok(Found::Owned(hash));
    }
    let mut names = Vec::new();
    let mut all_files = true;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        all_files &= entry.file_type()?.is_file();
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    let earlier = [
        ["summary.txt", "template.json"],
        ["summary.txt", "template.yaml"],
    ];
    if all_files && earlier.iter().any(|e| names == e) {
        return Ok(Found::Adoptable);
    }
    let shown: Vec<_> = names.iter().take(5).map(String::as_str).collect();
    let more = if names.len() > 5 { ", …" } else { "" };
    Ok(Found::Foreign(format!(
        "it has no {MARKER} marker and holds what sockstack never writes ({}{more})",
        if shown.is_empty() {
            "nothing".to_string()
        } else {
            shown.join(", ")
        }
    )))
}

/// Reads a marker: `None` if there is no valid one (absent, a link, not ours),
/// else the content hash it records, if any.
pub fn read_marker(path: &Path) -> io::Result<Option<Option<String>>> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() || meta.len() > MARKER_MAX {
        return Ok(None);
    }
    let mut text = String::new();
    fs::File::open(path)?
        .take(MARKER_MAX)
        .read_to_string(&mut text)
        .ok();
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Ok(None);
    }
    let hash = lines
        .next()
        .and_then(|l| l.strip_prefix("sha256 "))
        .map(str::to_string);
    Ok(Some(hash))
}

/// Whether the folder at `path` (known to be owned) holds exactly `files`, byte for byte.
pub fn holds_exactly(path: &Path, files: &[(String, String)]) -> io::Result<bool> {
    let mut names = Vec::new();
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            return Ok(false);
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != MARKER {
            names.push(name);
        }
    }
    if names.len() != files.len() {
        return Ok(false);
    }
    for (name, contents) in files {
        let file = path.join(name);
        let meta = match fs::symlink_metadata(&file) {
            Ok(m) => m,
            Err(_) => return Ok(false),
        };
        if !meta.is_file() || meta.len() != contents.len() as u64 {
            return Ok(false);
        }
        if fs::read(&file)? != contents.as_bytes() {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            fs::write(dir.path().join(f), "x").unwrap();
        }
        dir
    }

    #[test]
    fn an_earlier_sockstack_folder_is_adopted() {
        for files in [
            ["summary.txt", "template.yaml"],
            ["template.json", "summary.txt"],
        ] {
            let dir = folder(&files);
            assert_eq!(inspect(dir.path()).unwrap(), Found::Adoptable);
        }
    }

    #[test]
    fn a_folder_with_anything_else_is_foreign() {
        for files in [
            &["summary.txt", "template.yaml", "notes.md"][..],
            &["dev.yaml", "prod.yaml"],
            &["template.yaml"],
            &[],
        ] {
            let dir = folder(files);
            assert!(
                matches!(inspect(dir.path()).unwrap(), Found::Foreign(_)),
                "{files:?}"
            );
        }
    }

    #[test]
    fn a_marked_folder_is_owned_and_records_its_hash() {
        let dir = folder(&["anything"]);
        fs::write(dir.path().join(MARKER), marker_text(Some("abc"))).unwrap();
        assert_eq!(
            inspect(dir.path()).unwrap(),
            Found::Owned(Some("abc".into()))
        );
    }

    #[test]
    fn a_marker_with_another_text_is_not_ours() {
        let dir = folder(&["summary.txt"]);
        fs::write(dir.path().join(MARKER), "hello\n").unwrap();
        assert!(matches!(inspect(dir.path()).unwrap(), Found::Foreign(_)));
    }

    #[test]
    fn links_and_files_are_foreign() {
        let dir = folder(&["summary.txt", "template.yaml"]);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path(), &link).unwrap();
        assert!(
            matches!(inspect(&link).unwrap(), Found::Foreign(r) if r.contains("symbolic link"))
        );
        assert!(matches!(
            inspect(&dir.path().join("summary.txt")).unwrap(),
            Found::Foreign(_)
        ));
        assert_eq!(inspect(&dir.path().join("none")).unwrap(), Found::Absent);
    }

    #[test]
    fn content_hash_ignores_order_and_sees_every_byte() {
        let a = vec![("a".to_string(), "1".to_string()), ("b".into(), "2".into())];
        let b = vec![("b".to_string(), "2".to_string()), ("a".into(), "1".into())];
        let c = vec![("a".to_string(), "12".to_string()), ("b".into(), "".into())];
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&c));
    }
}
