//! PNG figures: heat maps, grouped bar charts and line charts, drawn with
//! plotters and the bundled DejaVu Sans font (so no system fonts are needed).

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

const FONT_NAME: &str = "maso-sans";
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

pub(crate) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT_NAME, FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(Error::Plot {
            path: Default::default(),
            message: "the bundled font could not be loaded".to_string(),
        })
    }
}

fn plot_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Plot {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

pub(crate) fn font(size: u32) -> TextStyle<'static> {
    (FONT_NAME, size).into_font().into()
}

/// Colour for t in [0, 1] on a white-to-dark-blue scale.
fn sequential_colour(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let channel = |light: f64, dark: f64| (light + (dark - light) * t).round() as u8;
    RGBColor(
        channel(247.0, 8.0),
        channel(251.0, 48.0),
        channel(255.0, 107.0),
    )
}

/// Categorical colours (Tableau 10) for series.
pub fn series_colour(index: usize) -> RGBColor {
    const PALETTE: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = PALETTE[index % PALETTE.len()];
    RGBColor(r, g, b)
}

/// Draws `values[row][column]` as a heat map with each cell's value printed;
/// the colour scale runs from the smallest to the largest value.
pub fn heatmap(
    path: &Path,
    title: &str,
    row_labels: &[String],
    column_labels: &[String],
    values: &[Vec<f64>],
) -> Result<()> {
    register_font()?;
    let (rows, columns) = (row_labels.len(), column_labels.len());
    if rows == 0
        || columns == 0
        || values.len() != rows
        || values.iter().any(|row| row.len() != columns)
    {
        return Err(plot_error(
            path,
            format!("heat map needs {rows} rows of {columns} values"),
        ));
    }
    // Colours span the values' own range, so small differences stay visible.
    let low = values
        .iter()
        .flatten()
        .fold(f64::INFINITY, |m, &v| m.min(v));
    let high = values
        .iter()
        .flatten()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let span = (high - low).max(1e-300);
    let cell = 56u32;
    let size = (
        (columns as u32 * cell + 160).max(420),
        rows as u32 * (cell * 2 / 3) + 140,
    );
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;

    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..columns as f64, 0.0..rows as f64)
        .map_err(|e| plot_error(path, e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(0)
        .y_labels(0)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (c, label) in column_labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(c as f64 + 0.5, 0.0));
        draw_label(&root, label, (x, y + 8), HPos::Center, VPos::Top)
            .map_err(|e| plot_error(path, e))?;
    }
    for (r, label) in row_labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, r as f64 + 0.5));
        draw_label(&root, label, (x - 8, y), HPos::Right, VPos::Center)
            .map_err(|e| plot_error(path, e))?;
    }

    let centred = Pos::new(HPos::Center, VPos::Center);
    for (r, row) in values.iter().enumerate() {
        for (c, &value) in row.iter().enumerate() {
            let t = (value - low) / span;
            let (x, y) = (c as f64, r as f64);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    sequential_colour(t).filled(),
                )))
                .map_err(|e| plot_error(path, e))?;
            let colour = if t > 0.55 { WHITE } else { BLACK };
            let text = Text::new(
                format!("{value:.2}"),
                (x + 0.5, y + 0.5),
                font(13).color(&colour).pos(centred),
            );
            chart
                .draw_series(std::iter::once(text))
                .map_err(|e| plot_error(path, e))?;
        }
    }
    root.present().map_err(|e| plot_error(path, e))
}

/// Writes `text` at pixel `position` of `area`, anchored as given.
fn draw_label<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    text: &str,
    position: (i32, i32),
    horizontal: HPos,
    vertical: VPos,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    area.draw(&Text::new(
        text.to_string(),
        position,
        font(14).pos(Pos::new(horizontal, vertical)),
    ))
}

/// Draws grouped bars: one group per entry of `group_labels`, one bar per
/// series in each group, with a legend naming the series. Values may be
/// negative.
pub fn grouped_bars(
    path: &Path,
    title: &str,
    y_label: &str,
    group_labels: &[String],
    series_labels: &[String],
    values: &[Vec<f64>],
) -> Result<()> {
    register_font()?;
    let (groups, series) = (group_labels.len(), series_labels.len());
    if groups == 0
        || series == 0
        || values.len() != groups
        || values.iter().any(|g| g.len() != series)
    {
        return Err(plot_error(
            path,
            format!("bar chart needs {groups} groups of {series} values"),
        ));
    }
    let low = values.iter().flatten().fold(0.0f64, |m, &v| m.min(v));
    let high = values.iter().flatten().fold(0.0f64, |m, &v| m.max(v));
    // Extra room at the top keeps the legend clear of the bars.
    let span = (high - low).max(1e-12);
    let (bottom, top) = (low - 0.05 * span, high + 0.3 * span);
    let width = (groups as u32 * (series as u32 * 14 + 24) + 220).clamp(640, 2400);
    let root = BitMapBackend::new(path, (width, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;

    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..groups as f64, bottom..top)
        .map_err(|e| plot_error(path, e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(y_label)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()
        .map_err(|e| plot_error(path, e))?;

    for (g, label) in group_labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(g as f64 + 0.5, bottom));
        draw_label(&root, label, (x, y + 8), HPos::Center, VPos::Top)
            .map_err(|e| plot_error(path, e))?;
    }

    let bar_width = 0.8 / series as f64;
    for s in 0..series {
        let colour = series_colour(s);
        let bars = (0..groups).map(|g| {
            let left = g as f64 + 0.1 + s as f64 * bar_width;
            let value = values[g][s];
            Rectangle::new(
                [(left, 0.0), (left + bar_width * 0.9, value)],
                colour.filled(),
            )
        });
        chart
            .draw_series(bars)
            .map_err(|e| plot_error(path, e))?
            .label(series_labels[s].clone())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))
}

/// Draws one line per series of (x, y) points, with a legend.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(String, Vec<(f64, f64)>)],
    log_y: bool,
) -> Result<()> {
    register_font()?;
    let points: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, p)| p.iter().copied())
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.is_empty() {
        return Err(plot_error(path, "line chart has no finite points"));
    }
    let (x_low, x_high) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| {
        (a.min(*x), b.max(*x))
    });
    let transform = |y: f64| if log_y { y.max(1e-300).log10() } else { y };
    let (y_low, y_high) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| {
        (a.min(transform(*y)), b.max(transform(*y)))
    });
    let y_pad = (y_high - y_low).max(1e-12) * 0.05;
    let root = BitMapBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let y_description = if log_y {
        format!("log10 {y_label}")
    } else {
        y_label.to_string()
    };

    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(
            x_low..x_high.max(x_low + 1e-12),
            (y_low - y_pad)..(y_high + y_pad),
        )
        .map_err(|e| plot_error(path, e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_description)
        .label_style(font(13))
        .axis_desc_style(font(14))
        .draw()
        .map_err(|e| plot_error(path, e))?;
    for (index, (name, line)) in series.iter().enumerate() {
        let colour = series_colour(index);
        let line: Vec<(f64, f64)> = line
            .iter()
            .map(|&(x, y)| (x, transform(y)))
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        chart
            .draw_series(LineSeries::new(line, colour.stroke_width(2)))
            .map_err(|e| plot_error(path, e))?
            .label(name.clone())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], colour.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .label_font(font(13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| plot_error(path, e))?;
    root.present().map_err(|e| plot_error(path, e))
}

/// One panel of [`scatter_grid`]: a title and 2-D points with class labels.
pub struct ScatterPanel<'a> {
    /// Panel title.
    pub title: &'a str,
    /// Row-major n x 2 coordinates.
    pub points: &'a [f64],
    /// Class of each point (index into the class names).
    pub labels: &'a [u32],
}

/// Draws panels of 2-D scatter plots in a grid with `columns` columns, each
/// point coloured by its class, and a shared legend of `class_names`.
pub fn scatter_grid(
    path: &Path,
    title: &str,
    panels: &[ScatterPanel],
    columns: usize,
    class_names: &[String],
) -> Result<()> {
    register_font()?;
    if panels.is_empty() || columns == 0 {
        return Err(plot_error(
            path,
            "a scatter grid needs at least one panel and one column",
        ));
    }
    for panel in panels {
        if panel.points.len() != 2 * panel.labels.len() {
            return Err(plot_error(
                path,
                format!(
                    "panel {:?} has {} coordinates for {} labels",
                    panel.title,
                    panel.points.len(),
                    panel.labels.len()
                ),
            ));
        }
    }
    let rows = panels.len().div_ceil(columns);
    let root = BitMapBackend::new(path, (480 * columns as u32, 420 * rows as u32 + 70))
        .into_drawing_area();
    root.fill(&WHITE).map_err(|e| plot_error(path, e))?;
    let (header, body) = root.split_vertically(70);
    header
        .draw(&Text::new(title.to_string(), (12, 8), font(20)))
        .map_err(|e| plot_error(path, e))?;
    for (c, name) in class_names.iter().enumerate() {
        let x = 12 + 140 * c as i32;
        header
            .draw(&Circle::new((x + 6, 48), 5, series_colour(c).filled()))
            .map_err(|e| plot_error(path, e))?;
        header
            .draw(&Text::new(name.clone(), (x + 16, 40), font(14)))
            .map_err(|e| plot_error(path, e))?;
    }

    for (panel, area) in panels.iter().zip(body.split_evenly((rows, columns))) {
        let xs = panel.points.iter().step_by(2);
        let ys = panel.points.iter().skip(1).step_by(2);
        let (x_low, x_high) = xs.fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let (y_low, y_high) = ys.fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        let x_pad = (x_high - x_low).max(1e-12) * 0.05;
        let y_pad = (y_high - y_low).max(1e-12) * 0.05;
        let mut chart = ChartBuilder::on(&area)
            .caption(panel.title, font(16))
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(
                (x_low - x_pad)..(x_high + x_pad),
                (y_low - y_pad)..(y_high + y_pad),
            )
            .map_err(|e| plot_error(path, e))?;
        chart
            .configure_mesh()
            .label_style(font(11))
            .draw()
            .map_err(|e| plot_error(path, e))?;
        let points = panel
            .points
            .chunks(2)
            .zip(panel.labels)
            .map(|(xy, &label)| {
                Circle::new((xy[0], xy[1]), 3, series_colour(label as usize).filled())
            });
        chart.draw_series(points).map_err(|e| plot_error(path, e))?;
    }
    root.present().map_err(|e| plot_error(path, e))
}
