//! Files of a study folder: CSV tables that also render as Markdown,
//! Markdown report sections, and JSON summaries.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file of a study folder: its absolute path and its link relative to the
/// study's `report.md`.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Absolute path of the file.
    pub path: PathBuf,
    /// Path relative to the study folder, as used in links.
    pub link: String,
}

impl OutputFile {
    /// Returns `directory/folder/name.extension`, creating `folder`.
    pub(super) fn create(
        directory: &Path,
        folder: &str,
        name: &str,
        extension: &str,
    ) -> Result<Self> {
        let folder_path = directory.join(folder);
        super::create_directory(&folder_path)?;
        let file = format!("{name}.{extension}");
        Ok(Self {
            path: folder_path.join(&file),
            link: format!("{folder}/{file}"),
        })
    }
}

/// A table with a header row, written as CSV and shown as Markdown.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Creates an empty table with these column names.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|name| name.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; it must have one cell per column.
    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.header.len(), "row width");
        self.rows.push(row);
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Returns whether the table has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the table as CSV (RFC 4180 quoting).
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let io_error = |source| Error::Io {
            path: path.to_path_buf(),
            source,
        };
        let mut writer = csv::Writer::from_path(path).map_err(|error| io_error(error.into()))?;
        for row in std::iter::once(&self.header).chain(&self.rows) {
            writer
                .write_record(row)
                .map_err(|error| io_error(error.into()))?;
        }
        writer.flush().map_err(io_error)
    }

    /// Returns a table with the same header and the rows at `indices` only,
    /// for showing a long table's excerpt in a report.
    pub fn excerpt(&self, indices: &[usize]) -> Table {
        Table {
            header: self.header.clone(),
            rows: indices
                .iter()
                .filter_map(|&index| self.rows.get(index).cloned())
                .collect(),
        }
    }

    /// Renders the table in Markdown.
    pub fn markdown(&self) -> String {
        let line = |cells: &[String]| {
            format!(
                "| {} |\n",
                cells
                    .iter()
                    .map(|cell| cell.replace('|', "\\|"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        };
        let mut text = line(&self.header);
        text += &format!("|{}\n", "---|".repeat(self.header.len()));
        for row in &self.rows {
            text += &line(row);
        }
        text
    }
}

/// A section of a study's `report.md`.
#[derive(Debug, Clone)]
pub struct Section {
    heading: String,
    body: String,
    in_list: bool,
}

impl Section {
    /// Starts a section with a second-level heading.
    pub fn new(heading: &str) -> Self {
        Self {
            heading: heading.to_string(),
            body: String::new(),
            in_list: false,
        }
    }

    /// Ends a list of files with the blank line Markdown needs before a new block.
    fn end_list(&mut self) {
        if self.in_list {
            self.body.push('\n');
            self.in_list = false;
        }
    }

    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: &str) {
        self.end_list();
        let _ = write!(self.body, "{}\n\n", text.trim());
    }

    /// Appends a figure followed by the sentence that describes what it shows.
    /// The image's alternative text is its file name.
    pub fn figure(&mut self, file: &OutputFile, caption: &str) {
        self.end_list();
        let name = file.link.rsplit('/').next().unwrap_or(&file.link);
        let _ = write!(
            self.body,
            "![{name}]({link})\n\n{caption}\n\n",
            link = file.link
        );
    }

    /// Appends a table, its caption and a link to its CSV file.
    pub fn table(&mut self, table: &Table, file: &OutputFile, caption: &str) {
        self.end_list();
        let _ = write!(
            self.body,
            "{caption} ([{link}]({link}))\n\n{}\n",
            table.markdown(),
            link = file.link
        );
    }

    /// Appends a link to a file that is not shown inline, as a list item.
    pub fn file(&mut self, file: &OutputFile, description: &str) {
        let _ = writeln!(
            self.body,
            "- [{link}]({link}): {description}",
            link = file.link
        );
        self.in_list = true;
    }

    /// Renders the section, ending with a blank line.
    pub fn markdown(&self) -> String {
        format!("## {}\n\n{}\n\n", self.heading, self.body.trim_end())
    }
}

/// Formats `value` with `digits` decimals, or `NaN`/`inf` as Rust prints them.
pub fn decimal(value: f64, digits: usize) -> String {
    format!("{value:.digits$}")
}

/// Returns the name serde gives a unit enum variant, such as `relu` for
/// `Activation::Relu`, or its `Debug` form for other values.
pub fn serde_name<T: serde::Serialize + std::fmt::Debug>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{value:?}"),
    }
}

/// Lists the JSON paths whose value is null. `serde_json` writes NaN and
/// infinities as null, so in a summary that never stores null on purpose,
/// each entry is a number that was not finite.
pub fn null_paths(value: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    collect_nulls(value, "$", &mut found);
    found
}

fn collect_nulls(value: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => found.push(path.to_string()),
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_nulls(item, &format!("{path}[{index}]"), found);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                collect_nulls(item, &format!("{path}.{key}"), found);
            }
        }
        _ => {}
    }
}

/// Writes `value` as pretty-printed JSON.
pub fn write_json(path: &Path, value: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("a JSON value always serialises");
    write_text(path, &(text + "\n"))
}

/// Writes `text` to `path`, with an error that names the file.
pub(super) fn write_text(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}
