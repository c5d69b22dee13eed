//! Assembly and validation of WGSL sources.
//!
//! maso's shaders share helpers through `#import NAME` lines, where `NAME` is
//! a path below `shaders/` without the `.wgsl` suffix (`#import shared/philox`).
//! WGSL has no import mechanism, so the line is replaced by the named file's
//! text before naga parses it; each file is inserted once per shader, however
//! often it is imported. A line map remembers where every assembled line came
//! from, so that a naga error points at the file and line a developer edits.
//!
//! `build.rs` includes this file too (by path), so the build and the library
//! assemble and validate shaders with the same code.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A shader with its imports inlined, plus the origin of every line.
#[derive(Debug, Clone)]
pub struct AssembledShader {
    /// The WGSL text that naga and wgpu receive.
    pub text: String,
    /// For each line of `text` (0-based), the source file and its 1-based line.
    pub line_origins: Vec<(String, usize)>,
}

#[allow(dead_code)] // build.rs includes this file but uses only part of it.
impl AssembledShader {
    /// Wraps a single source with no imports, naming it `label` in errors.
    pub fn from_single_source(label: &str, text: &str) -> Self {
        let line_origins = (1..=text.lines().count().max(1))
            .map(|line| (label.to_string(), line))
            .collect();
        Self {
            text: text.to_string(),
            line_origins,
        }
    }

    /// Maps a 1-based line of the assembled text back to its origin.
    fn origin_of(&self, assembled_line: usize) -> (String, usize) {
        assembled_line
            .checked_sub(1)
            .and_then(|index| self.line_origins.get(index))
            .cloned()
            .unwrap_or_else(|| ("<assembled shader>".to_string(), assembled_line))
    }
}

/// Reads `entry` (a path below `root`) and inlines its `#import` lines.
///
/// Returns a message naming the importing file and line when an import is
/// missing or malformed.
pub fn assemble_shader(root: &Path, entry: &Path) -> Result<AssembledShader, String> {
    let mut assembled = AssembledShader {
        text: String::new(),
        line_origins: Vec::new(),
    };
    let mut included = HashSet::new();
    append_file(root, entry, &mut included, &mut assembled)?;
    Ok(assembled)
}

fn append_file(
    root: &Path,
    path: &Path,
    included: &mut HashSet<PathBuf>,
    assembled: &mut AssembledShader,
) -> Result<(), String> {
    let display_name = display_path(root, path);
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("{display_name}: cannot read shader: {error}"))?;
    included.insert(path.to_path_buf());

    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let Some(import) = line.trim_start().strip_prefix("#import") else {
            assembled.text.push_str(line);
            assembled.text.push('\n');
            assembled
                .line_origins
                .push((display_name.clone(), line_number));
            continue;
        };

        let name = import.trim();
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/');
        if !valid_name {
            return Err(format!(
                "{display_name}:{line_number}: invalid import {name:?}: expected `#import NAME` \
                 with NAME a path below shaders/ without .wgsl, such as `#import shared/philox`"
            ));
        }
        let imported = root.join(format!("{name}.wgsl"));
        if !imported.is_file() {
            return Err(format!(
                "{display_name}:{line_number}: imported shader {name:?} not found (looked for {})",
                imported.display()
            ));
        }

        // Keep the line count stable for the importing file's own lines by
        // leaving a marker comment where the import stood.
        assembled.text.push_str(&format!("// imported: {name}\n"));
        assembled
            .line_origins
            .push((display_name.clone(), line_number));
        if !included.contains(&imported) {
            append_file(root, &imported, included, assembled)?;
        }
    }
    Ok(())
}

fn display_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let root_name = root
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    if root_name.is_empty() {
        relative.display().to_string()
    } else {
        format!("{root_name}/{}", relative.display())
    }
}

/// Parses and validates an assembled shader with naga.
///
/// Returns the validated module, or a report that starts with
/// `FILE:LINE:COLUMN: error: MESSAGE` for the original file and quotes the line.
pub fn validate_shader(shader: &AssembledShader) -> Result<naga::Module, String> {
    let module = naga::front::wgsl::parse_str(&shader.text).map_err(|error| {
        let location = error.location(&shader.text);
        format_report(shader, location, error.message())
    })?;

    let mut validator = naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::default(),
    );
    validator.validate(&module).map_err(|error| {
        let location = error.location(&shader.text);
        let mut message = error.as_inner().to_string();
        let mut source = std::error::Error::source(error.as_inner());
        while let Some(cause) = source {
            let _ = write!(message, ": {cause}");
            source = cause.source();
        }
        format_report(shader, location, &message)
    })?;
    Ok(module)
}

fn format_report(
    shader: &AssembledShader,
    location: Option<naga::SourceLocation>,
    message: &str,
) -> String {
    let Some(location) = location else {
        let file = shader
            .line_origins
            .first()
            .map(|(file, _)| file.clone())
            .unwrap_or_default();
        return format!("{file}: error: {message}");
    };

    let assembled_line = location.line_number as usize;
    let (file, line) = shader.origin_of(assembled_line);
    let column = location.line_position;
    let quoted = shader
        .text
        .lines()
        .nth(assembled_line.saturating_sub(1))
        .unwrap_or("");
    let caret_indent = " ".repeat(column.saturating_sub(1) as usize);
    format!("{file}:{line}:{column}: error: {message}\n    | {quoted}\n    | {caret_indent}^")
}
