//! Figures are written as decodable PNG files of the expected size, and bad
//! shapes are rejected.

use std::path::PathBuf;

use maso::plot;

fn output(name: &str) -> PathBuf {
    let directory = std::env::temp_dir().join(format!("maso-plot-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    directory.join(name)
}

fn labels(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

fn assert_png_with_ink(path: &PathBuf) {
    let image = image::open(path).unwrap().to_rgb8();
    assert!(image.width() >= 400, "width {}", image.width());
    assert!(image.height() >= 200, "height {}", image.height());
    let dark = image
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 100))
        .count();
    assert!(
        dark > 100,
        "only {dark} dark pixels: no text or axes were drawn"
    );
}

#[test]
fn heatmap_writes_png() {
    let path = output("heatmap.png");
    let values: Vec<Vec<f64>> = (0..3)
        .map(|r| (0..4).map(|c| (r * 4 + c) as f64 / 11.0).collect())
        .collect();
    plot::heatmap(
        &path,
        "mu per class and layer",
        &labels("class ", 3),
        &labels("layer ", 4),
        &values,
    )
    .unwrap();
    assert_png_with_ink(&path);
}

#[test]
fn grouped_bars_write_png() {
    let path = output("bars.png");
    let values = vec![vec![0.5, -0.2, 0.1], vec![-0.3, 0.4, 0.9]];
    plot::grouped_bars(
        &path,
        "contributions",
        "contribution",
        &labels("sample ", 2),
        &labels("layer ", 3),
        &values,
    )
    .unwrap();
    assert_png_with_ink(&path);
}

#[test]
fn line_chart_writes_png() {
    let path = output("lines.png");
    let series = vec![
        (
            "train".to_string(),
            (1..50).map(|i| (i as f64, 1.0 / i as f64)).collect(),
        ),
        (
            "test".to_string(),
            (1..50).map(|i| (i as f64, 2.0 / i as f64)).collect(),
        ),
    ];
    plot::line_chart(&path, "loss", "iteration", "MSE", &series, true).unwrap();
    assert_png_with_ink(&path);
}

#[test]
fn heatmap_rejects_ragged_values() {
    let path = output("ragged.png");
    let values = vec![vec![1.0, 2.0], vec![3.0]];
    let message = plot::heatmap(&path, "bad", &labels("r", 2), &labels("c", 2), &values)
        .unwrap_err()
        .to_string();
    assert!(message.contains("2 rows of 2 values"), "{message}");
}
