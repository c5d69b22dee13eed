//! Shader assembly and validation, as build.rs runs them: imports resolve,
//! and a broken shader is reported with its own file and line.

use std::path::{Path, PathBuf};

use maso::shader_source::{assemble_shader, validate_shader};

fn temp_shader_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("maso-shaders-{name}-{}", std::process::id()))
        .join("shaders");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn error_in_imported_file_points_at_that_file() {
    let root = temp_shader_dir("imported");
    write(
        &root.join("shared/helper.wgsl"),
        "fn helper() -> f32 {\n    return 1.0\n}\n",
    );
    write(
        &root.join("entry.wgsl"),
        "#import shared/helper\n\n@compute @workgroup_size(1)\nfn main() {\n    let x = helper();\n}\n",
    );
    let assembled = assemble_shader(&root, &root.join("entry.wgsl")).unwrap();
    let report = validate_shader(&assembled).unwrap_err();
    assert!(
        report.starts_with("shaders/shared/helper.wgsl:2:")
            || report.starts_with("shaders/shared/helper.wgsl:3:"),
        "{report}"
    );
}

#[test]
fn error_after_import_keeps_entry_line_numbers() {
    let root = temp_shader_dir("entry");
    write(
        &root.join("shared/helper.wgsl"),
        "fn helper() -> f32 {\n    return 1.0;\n}\n",
    );
    write(
        &root.join("entry.wgsl"),
        "#import shared/helper\n\n@compute @workgroup_size(1)\nfn main() {\n    let x: u32 = helper();\n}\n",
    );
    let assembled = assemble_shader(&root, &root.join("entry.wgsl")).unwrap();
    let report = validate_shader(&assembled).unwrap_err();
    assert!(report.starts_with("shaders/entry.wgsl:5:"), "{report}");
}

#[test]
fn repeated_imports_are_inlined_once() {
    let root = temp_shader_dir("once");
    write(
        &root.join("shared/a.wgsl"),
        "fn a() -> f32 { return 1.0; }\n",
    );
    write(
        &root.join("shared/b.wgsl"),
        "#import shared/a\nfn b() -> f32 { return a(); }\n",
    );
    write(
        &root.join("entry.wgsl"),
        "#import shared/a\n#import shared/b\n@compute @workgroup_size(1)\nfn main() { let x = b(); }\n",
    );
    let assembled = assemble_shader(&root, &root.join("entry.wgsl")).unwrap();
    assert_eq!(assembled.text.matches("fn a()").count(), 1);
    validate_shader(&assembled).unwrap();
}

#[test]
fn missing_import_names_the_importing_line() {
    let root = temp_shader_dir("missing");
    write(&root.join("entry.wgsl"), "\n#import shared/nothing\n");
    let error = assemble_shader(&root, &root.join("entry.wgsl")).unwrap_err();
    assert!(error.starts_with("shaders/entry.wgsl:2:"), "{error}");
    assert!(error.contains("not found"), "{error}");
}

#[test]
fn embedded_shaders_are_all_present() {
    let names: Vec<&str> = maso::shaders::ALL
        .iter()
        .map(|shader| shader.name)
        .collect();
    for expected in ["elementwise", "gemm", "random", "reduce"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(maso::shaders::ALL
        .iter()
        .all(|shader| !shader.source.contains("#import")));
}
