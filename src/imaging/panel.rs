//! Side-by-side comparison figures: images of equal size in a grid, each
//! with a title or with row and column labels. Optionally every image gets a
//! nearest-neighbour magnification of one rectangle drawn under it, and the
//! rectangle is outlined on both.
//!
//! Images are drawn at their own resolution, one image pixel per figure
//! pixel. Text uses the bundled DejaVu Sans font through plotters, as
//! [`crate::plot`] does.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::image::{check_rectangle, to_u8, Image};
use super::write_png;
use crate::error::{Error, Result};
use crate::plot::{font, register_font};

/// Space around the figure and between cells, in pixels.
const MARGIN: usize = 12;
/// Space between an image and its magnified rectangle, in pixels.
const ZOOM_GAP: usize = 8;
/// Width of the rectangle outlines, in pixels.
const OUTLINE: usize = 2;
/// Font sizes, in pixels, of the figure title and of image titles and labels.
const TITLE_FONT: u32 = 20;
const LABEL_FONT: u32 = 16;
/// Heights of the strips that hold the figure title and one line of labels.
const TITLE_STRIP: usize = 34;
const LABEL_STRIP: usize = 26;
/// Largest figure accepted: 16384 pixels per side and 2^26 pixels (192 MiB as RGB).
const MAX_SIDE: usize = 16_384;
const MAX_PIXELS: usize = 1 << 26;
/// Outline colour (red, from ColorBrewer's Set1).
const OUTLINE_COLOUR: [u8; 3] = [228, 26, 28];

/// A rectangle of every image to show magnified under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zoom {
    /// Left column of the rectangle.
    pub x: usize,
    /// Top row of the rectangle.
    pub y: usize,
    /// Width of the rectangle in image pixels.
    pub width: usize,
    /// Height of the rectangle in image pixels.
    pub height: usize,
    /// Magnification: each image pixel becomes a `factor` x `factor` block.
    pub factor: usize,
}

/// A figure of titled images of equal size, `columns` per row, filled row by
/// row, with an optional magnified rectangle under each image.
///
/// ```no_run
/// # fn main() -> maso::Result<()> {
/// use maso::imaging::{area_downsample, bundled_image, resize_bicubic, Panel};
///
/// let truth = bundled_image("camera")?;
/// let bicubic = resize_bicubic(&area_downsample(&truth, 4)?, 512, 512)?;
/// Panel::new(2)
///     .title("x4 super-resolution")
///     .add("ground truth", &truth)
///     .add("bicubic", &bicubic)
///     .zoom(200, 200, 64, 64, 3)
///     .save(std::path::Path::new("panel.png"))?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Panel {
    columns: usize,
    title: Option<String>,
    entries: Vec<(String, Image)>,
    zoom: Option<Zoom>,
}

impl Panel {
    /// Starts an empty panel with `columns` images per row. A `columns` of 0
    /// is reported by [`render`](Self::render) and [`save`](Self::save).
    pub fn new(columns: usize) -> Self {
        Self {
            columns,
            title: None,
            entries: Vec::new(),
            zoom: None,
        }
    }

    /// Sets the figure title, drawn above all images.
    pub fn title(&mut self, title: &str) -> &mut Self {
        self.title = Some(title.to_string());
        self
    }

    /// Appends a copy of `image` with `title` drawn above it.
    pub fn add(&mut self, title: &str, image: &Image) -> &mut Self {
        self.entries.push((title.to_string(), image.clone()));
        self
    }

    /// Magnifies the `width` x `height` rectangle at (`x`, `y`) of every image
    /// by `factor` (nearest neighbour) and draws it under the image.
    pub fn zoom(
        &mut self,
        x: usize,
        y: usize,
        width: usize,
        height: usize,
        factor: usize,
    ) -> &mut Self {
        self.zoom = Some(Zoom {
            x,
            y,
            width,
            height,
            factor,
        });
        self
    }

    /// Draws the figure as an RGB image.
    ///
    /// Errors if `columns` is 0, no image was added, the images differ in
    /// size, the zoom rectangle is empty, outside the images or has factor 0,
    /// or the figure would exceed 16384 pixels per side or 2^26 pixels.
    pub fn render(&self) -> Result<Image> {
        if self.columns == 0 {
            return Err(Error::InvalidArgument {
                name: "columns",
                value: "0".to_string(),
                expected: "at least 1 image per row".to_string(),
            });
        }
        let cells: Vec<Cell> = self
            .entries
            .iter()
            .map(|(title, image)| Cell {
                title: Some(title.as_str()),
                image,
            })
            .collect();
        let rows: Vec<Vec<Cell>> = cells.chunks(self.columns).map(<[Cell]>::to_vec).collect();
        let figure = Figure {
            title: self.title.as_deref(),
            column_labels: None,
            row_labels: None,
            rows,
            zoom: self.zoom,
        };
        figure.render()
    }

    /// Draws the figure and writes it to `path` as an 8-bit RGB PNG.
    ///
    /// Errors as [`render`](Self::render) does, or if the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_png(path, &self.render()?)
    }
}

/// A figure of images of equal size in rows and columns with a label per
/// row (left) and per column (top), for example one row per number of CT
/// projection angles and one column per method.
#[derive(Debug, Clone, Default)]
pub struct PanelGrid {
    /// Figure title drawn above the grid.
    pub title: Option<String>,
    /// One label per row of `images`.
    pub row_labels: Vec<String>,
    /// One label per column of `images`.
    pub column_labels: Vec<String>,
    /// Images, row by row; every row has one image per column label.
    pub images: Vec<Vec<Image>>,
    /// Rectangle to show magnified under every image.
    pub zoom: Option<Zoom>,
}

impl PanelGrid {
    /// Draws the figure as an RGB image.
    ///
    /// Errors if the label counts do not match the rows and columns of
    /// `images`, if there is no image, or for the reasons of [`Panel::render`].
    pub fn render(&self) -> Result<Image> {
        let columns = self.column_labels.len();
        let mismatch = |message: String| Error::ShapeMismatch {
            operation: "PanelGrid",
            message,
        };
        if self.images.len() != self.row_labels.len() {
            return Err(mismatch(format!(
                "{} rows of images but {} row labels; give one label per row",
                self.images.len(),
                self.row_labels.len()
            )));
        }
        if let Some((index, row)) = self
            .images
            .iter()
            .enumerate()
            .find(|(_, row)| row.len() != columns)
        {
            return Err(mismatch(format!(
                "row {index} has {} images but there are {columns} column labels; give one image per column",
                row.len()
            )));
        }
        let rows = self
            .images
            .iter()
            .map(|row| {
                row.iter()
                    .map(|image| Cell { title: None, image })
                    .collect()
            })
            .collect();
        let figure = Figure {
            title: self.title.as_deref(),
            column_labels: Some(&self.column_labels),
            row_labels: Some(&self.row_labels),
            rows,
            zoom: self.zoom,
        };
        figure.render()
    }

    /// Draws the figure and writes it to `path` as an 8-bit RGB PNG.
    ///
    /// Errors as [`render`](Self::render) does, or if the file cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_png(path, &self.render()?)
    }
}

#[derive(Clone, Copy)]
struct Cell<'a> {
    title: Option<&'a str>,
    image: &'a Image,
}

/// The layout input shared by [`Panel`] and [`PanelGrid`]: cells in rows (the last row may be
/// shorter), optional labels and an optional zoom rectangle.
struct Figure<'a> {
    title: Option<&'a str>,
    column_labels: Option<&'a [String]>,
    row_labels: Option<&'a [String]>,
    rows: Vec<Vec<Cell<'a>>>,
    zoom: Option<Zoom>,
}

/// Pixel positions of the figure's parts.
struct Layout {
    width: usize,
    height: usize,
    /// Left edge of the first column and top edge of the first row of cells.
    left: usize,
    top: usize,
    cell_width: usize,
    cell_height: usize,
    /// Height of the per-image title strip (0 without titles).
    title_strip: usize,
    image_width: usize,
    image_height: usize,
    zoom_width: usize,
}

impl Layout {
    /// Top-left corner of the cell in `row` and `column`.
    fn cell(&self, row: usize, column: usize) -> (usize, usize) {
        (
            self.left + column * (self.cell_width + MARGIN),
            self.top + row * (self.cell_height + MARGIN),
        )
    }

    /// Top-left corner of the image in a cell.
    fn image(&self, row: usize, column: usize) -> (usize, usize) {
        let (x, y) = self.cell(row, column);
        (
            x + (self.cell_width - self.image_width) / 2,
            y + self.title_strip,
        )
    }

    /// Top-left corner of the magnified rectangle in a cell.
    fn zoom(&self, row: usize, column: usize) -> (usize, usize) {
        let (x, _) = self.cell(row, column);
        let (_, image_y) = self.image(row, column);
        (
            x + (self.cell_width - self.zoom_width) / 2,
            image_y + self.image_height + ZOOM_GAP,
        )
    }
}

/// An RGB canvas, 8 bits per sample, row by row.
struct Canvas {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Canvas {
    fn set(&mut self, x: usize, y: usize, rgb: [u8; 3]) {
        let start = (y * self.width + x) * 3;
        self.pixels[start..start + 3].copy_from_slice(&rgb);
    }

    /// Draws `image` (grey or RGB) with its top-left pixel at (`left`, `top`),
    /// each pixel as a `factor` x `factor` block.
    fn blit(&mut self, image: &Image, (left, top): (usize, usize), factor: usize) {
        for y in 0..image.height() * factor {
            for x in 0..image.width() * factor {
                let (source_x, source_y) = (x / factor, y / factor);
                let rgb = if image.channels() == 1 {
                    [to_u8(image.get(source_x, source_y, 0)); 3]
                } else {
                    [0, 1, 2].map(|c| to_u8(image.get(source_x, source_y, c)))
                };
                self.set(left + x, top + y, rgb);
            }
        }
    }

    /// Draws an [`OUTLINE`]-wide frame just outside the `width` x `height`
    /// rectangle at (`x`, `y`), clipped to `bounds` (left, top, right, bottom),
    /// so the framed pixels stay visible.
    fn outline(
        &mut self,
        (x, y): (usize, usize),
        (width, height): (usize, usize),
        bounds: [usize; 4],
    ) {
        let [min_x, min_y, max_x, max_y] = bounds;
        let (x, y) = (x as i64, y as i64);
        let (width, height, outline) = (width as i64, height as i64, OUTLINE as i64);
        for frame_y in y - outline..y + height + outline {
            for frame_x in x - outline..x + width + outline {
                let inside =
                    frame_x >= x && frame_x < x + width && frame_y >= y && frame_y < y + height;
                let in_bounds = frame_x >= min_x as i64
                    && frame_x < max_x as i64
                    && frame_y >= min_y as i64
                    && frame_y < max_y as i64;
                if !inside && in_bounds {
                    self.set(frame_x as usize, frame_y as usize, OUTLINE_COLOUR);
                }
            }
        }
    }

    fn into_image(self) -> Result<Image> {
        let data = self
            .pixels
            .iter()
            .map(|&value| f32::from(value) / 255.0)
            .collect();
        Image::new(self.width, self.height, 3, data)
    }
}

/// Width in pixels of `text` at `size`, from the font's layout.
fn text_width(text: &str, size: u32) -> Result<usize> {
    let (width, _) = font(size)
        .font
        .box_size(text)
        .map_err(|error| text_error(&error))?;
    Ok(width as usize)
}

fn text_error(error: &dyn std::fmt::Debug) -> Error {
    Error::Plot {
        path: Default::default(),
        message: format!("failed to draw text: {error:?}"),
    }
}

impl Figure<'_> {
    fn render(&self) -> Result<Image> {
        register_font()?;
        let layout = self.layout()?;
        let mut canvas = Canvas {
            width: layout.width,
            height: layout.height,
            pixels: vec![255; layout.width * layout.height * 3],
        };
        self.draw_images(&mut canvas, &layout);
        self.draw_text(&mut canvas, &layout)?;
        canvas.into_image()
    }

    /// Checks the images and the zoom rectangle and computes the layout.
    fn layout(&self) -> Result<Layout> {
        let Some(first) = self.rows.iter().flatten().next() else {
            return Err(Error::InvalidArgument {
                name: "images",
                value: "none".to_string(),
                expected: "at least one image in the figure".to_string(),
            });
        };
        let (image_width, image_height) = (first.image.width(), first.image.height());
        for cell in self.rows.iter().flatten() {
            if (cell.image.width(), cell.image.height()) != (image_width, image_height) {
                return Err(Error::ShapeMismatch {
                    operation: "panel",
                    message: format!(
                        "images must share one size, but one is {} x {} and another {} x {}; resize them first",
                        image_width,
                        image_height,
                        cell.image.width(),
                        cell.image.height()
                    ),
                });
            }
        }
        let (zoom_width, zoom_height) = match self.zoom {
            Some(zoom) => check_zoom(first.image, zoom)?,
            None => (0, 0),
        };

        let mut cell_width = image_width.max(zoom_width);
        let titles = self.rows.iter().flatten().filter_map(|cell| cell.title);
        let column_labels = self
            .column_labels
            .unwrap_or_default()
            .iter()
            .map(String::as_str);
        for text in titles.chain(column_labels) {
            cell_width = cell_width.max(text_width(text, LABEL_FONT)? + 4);
        }
        let has_titles = self.rows.iter().flatten().any(|cell| cell.title.is_some());
        let title_strip = if has_titles { LABEL_STRIP } else { 0 };
        let zoom_strip = if self.zoom.is_some() {
            ZOOM_GAP + zoom_height
        } else {
            0
        };
        let cell_height = title_strip + image_height + zoom_strip;

        let mut left = MARGIN;
        for label in self.row_labels.unwrap_or_default() {
            left = left.max(MARGIN + text_width(label, LABEL_FONT)? + MARGIN);
        }
        let mut top = MARGIN;
        if self.title.is_some() {
            top += TITLE_STRIP;
        }
        if self.column_labels.is_some() {
            top += LABEL_STRIP;
        }
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(1);
        let rows = self.rows.len();
        let mut width = left + columns * cell_width + (columns - 1) * MARGIN + MARGIN;
        if let Some(title) = self.title {
            width = width.max(2 * MARGIN + text_width(title, TITLE_FONT)?);
        }
        let height = top + rows * cell_height + (rows - 1) * MARGIN + MARGIN;
        if width > MAX_SIDE || height > MAX_SIDE || width * height > MAX_PIXELS {
            return Err(Error::InvalidArgument {
                name: "figure size",
                value: format!("{width} x {height} pixels"),
                expected: format!(
                    "at most {MAX_SIDE} pixels per side and {MAX_PIXELS} pixels; \
                     use fewer images per row, smaller images or a smaller zoom factor"
                ),
            });
        }
        Ok(Layout {
            width,
            height,
            left,
            top,
            cell_width,
            cell_height,
            title_strip,
            image_width,
            image_height,
            zoom_width,
        })
    }

    fn draw_images(&self, canvas: &mut Canvas, layout: &Layout) {
        for (row, cells) in self.rows.iter().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                let image_corner = layout.image(row, column);
                canvas.blit(cell.image, image_corner, 1);
                let Some(zoom) = self.zoom else { continue };

                let crop = cell
                    .image
                    .crop(zoom.x, zoom.y, zoom.width, zoom.height)
                    .expect("layout() checked the zoom rectangle");
                let zoom_corner = layout.zoom(row, column);
                canvas.blit(&crop, zoom_corner, zoom.factor);

                let (image_x, image_y) = image_corner;
                let image_bounds = [
                    image_x,
                    image_y,
                    image_x + layout.image_width,
                    image_y + layout.image_height,
                ];
                canvas.outline(
                    (image_x + zoom.x, image_y + zoom.y),
                    (zoom.width, zoom.height),
                    image_bounds,
                );
                let zoom_size = (zoom.width * zoom.factor, zoom.height * zoom.factor);
                canvas.outline(zoom_corner, zoom_size, [0, 0, canvas.width, canvas.height]);
            }
        }
    }

    fn draw_text(&self, canvas: &mut Canvas, layout: &Layout) -> Result<()> {
        let size = (layout.width as u32, layout.height as u32);
        let area = BitMapBackend::with_buffer(&mut canvas.pixels, size).into_drawing_area();
        let centred = Pos::new(HPos::Center, VPos::Center);
        let draw = |text: &str, (x, y): (usize, usize), style: TextStyle| {
            area.draw(&Text::new(text.to_string(), (x as i32, y as i32), style))
                .map_err(|error| text_error(&error))
        };

        if let Some(title) = self.title {
            draw(
                title,
                (layout.width / 2, MARGIN + TITLE_STRIP / 2),
                font(TITLE_FONT).pos(centred),
            )?;
        }
        for (column, label) in self.column_labels.unwrap_or_default().iter().enumerate() {
            let (x, y) = layout.cell(0, column);
            let position = (x + layout.cell_width / 2, y - LABEL_STRIP / 2);
            draw(label, position, font(LABEL_FONT).pos(centred))?;
        }
        for (row, label) in self.row_labels.unwrap_or_default().iter().enumerate() {
            let (_, image_y) = layout.image(row, 0);
            let position = (layout.left - MARGIN, image_y + layout.image_height / 2);
            draw(
                label,
                position,
                font(LABEL_FONT).pos(Pos::new(HPos::Right, VPos::Center)),
            )?;
        }
        for (row, cells) in self.rows.iter().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                let Some(title) = cell.title else { continue };
                let (x, y) = layout.cell(row, column);
                let position = (x + layout.cell_width / 2, y + LABEL_STRIP / 2);
                draw(title, position, font(LABEL_FONT).pos(centred))?;
            }
        }
        area.present().map_err(|error| text_error(&error))
    }
}

/// Checks `zoom` against the image size and returns the magnified size.
fn check_zoom(image: &Image, zoom: Zoom) -> Result<(usize, usize)> {
    check_rectangle(image, zoom.x, zoom.y, zoom.width, zoom.height)?;
    let too_large = |side: usize| {
        side.checked_mul(zoom.factor)
            .is_none_or(|magnified| magnified > MAX_SIDE)
    };
    if zoom.factor == 0 || too_large(zoom.width) || too_large(zoom.height) {
        return Err(Error::InvalidArgument {
            name: "zoom factor",
            value: zoom.factor.to_string(),
            expected: format!(
                "an integer of at least 1 that keeps the {} x {} rectangle within {MAX_SIDE} pixels per side",
                zoom.width, zoom.height
            ),
        });
    }
    Ok((zoom.width * zoom.factor, zoom.height * zoom.factor))
}
