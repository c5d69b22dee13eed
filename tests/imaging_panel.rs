//! Comparison figures: the PNG is written and decodes, and the images, the
//! magnified rectangles and their outlines sit where they should.

mod imaging_support;

use imaging_support::{quantised_image, scratch_dir};
use maso::imaging::{read_image, Image, Panel, PanelGrid, Zoom};
use maso::Error;

/// Outline colour of the zoom rectangles.
const RED: [f32; 3] = [228.0 / 255.0, 26.0 / 255.0, 28.0 / 255.0];

/// Returns `image` magnified `factor` times by pixel repetition, as RGB.
fn magnify_rgb(image: &Image, factor: usize) -> Image {
    let (width, height) = (image.width() * factor, image.height() * factor);
    let mut data = Vec::with_capacity(width * height * 3);
    for y in 0..height {
        for x in 0..width {
            for c in 0..3 {
                data.push(image.get(x / factor, y / factor, c.min(image.channels() - 1)));
            }
        }
    }
    Image::new(width, height, 3, data).unwrap()
}

/// Lists the top-left corners where `pattern` (grey or RGB) appears exactly in
/// the RGB `figure`, a grey pattern matching equal R, G and B.
fn find_all(figure: &Image, pattern: &Image) -> Vec<(usize, usize)> {
    let pattern = magnify_rgb(pattern, 1);
    let mut found = Vec::new();
    for top in 0..=figure.height().saturating_sub(pattern.height()) {
        for left in 0..=figure.width().saturating_sub(pattern.width()) {
            let matches = (0..pattern.height()).all(|y| {
                (0..pattern.width()).all(|x| {
                    (0..3).all(|c| figure.get(left + x, top + y, c) == pattern.get(x, y, c))
                })
            });
            if matches {
                found.push((left, top));
            }
        }
    }
    found
}

fn pixel(figure: &Image, x: usize, y: usize) -> [f32; 3] {
    [0, 1, 2].map(|c| figure.get(x, y, c))
}

/// Returns whether the rectangle contains any dark pixel (text is drawn in black).
fn has_dark_pixel(
    figure: &Image,
    (left, top): (usize, usize),
    (right, bottom): (usize, usize),
) -> bool {
    (top..bottom)
        .any(|y| (left..right).any(|x| pixel(figure, x, y).iter().all(|&value| value < 0.5)))
}

#[test]
fn panel_saves_decodable_png() {
    let images = [quantised_image(1, 40, 30, 3), quantised_image(2, 40, 30, 1)];
    let mut panel = Panel::new(2);
    panel
        .title("two images")
        .add("rgb", &images[0])
        .add("grey", &images[1])
        .zoom(5, 7, 8, 6, 3);
    let path = scratch_dir("save").join("panel.png");
    panel.save(&path).unwrap();

    let decoded = read_image(&path).unwrap();
    let rendered = panel.render().unwrap();
    assert_eq!(decoded.channels(), 3);
    assert_eq!(
        (decoded.width(), decoded.height()),
        (rendered.width(), rendered.height())
    );
    assert_eq!(
        decoded, rendered,
        "the PNG stores the rendered 8-bit pixels exactly"
    );
    assert!(
        decoded.width() >= 2 * 40 && decoded.height() >= 30 + 6 * 3,
        "{} x {}",
        decoded.width(),
        decoded.height()
    );
}

#[test]
fn panel_shows_images_and_zoomed_crops() {
    let zoom = Zoom {
        x: 5,
        y: 7,
        width: 8,
        height: 6,
        factor: 3,
    };
    let images = [
        quantised_image(3, 40, 30, 3),
        quantised_image(4, 40, 30, 1),
        quantised_image(5, 40, 30, 3),
    ];
    let mut panel = Panel::new(2);
    for (index, image) in images.iter().enumerate() {
        panel.add(&format!("image {index}"), image);
    }
    let figure = panel
        .zoom(zoom.x, zoom.y, zoom.width, zoom.height, zoom.factor)
        .render()
        .unwrap();

    let mut corners = Vec::new();
    for (index, image) in images.iter().enumerate() {
        // The rectangle itself is unchanged on the full image: the outline lies outside it.
        let crop = image.crop(zoom.x, zoom.y, zoom.width, zoom.height).unwrap();
        let at_full_size = find_all(&figure, &crop);
        assert_eq!(
            at_full_size.len(),
            1,
            "image {index}: rectangle found at {at_full_size:?}"
        );
        let (rect_x, rect_y) = at_full_size[0];
        let corner = (rect_x - zoom.x, rect_y - zoom.y);
        corners.push(corner);

        // The whole image is there apart from the outline pixels around the rectangle.
        let left_strip = image.crop(0, 0, zoom.x - 2, image.height()).unwrap();
        assert_eq!(
            find_all(&figure, &left_strip),
            vec![corner],
            "image {index}: left part"
        );
        assert_eq!(
            pixel(&figure, rect_x - 1, rect_y - 1),
            RED,
            "image {index}: outline corner"
        );
        assert_eq!(
            pixel(&figure, rect_x + zoom.width, rect_y + zoom.height),
            RED,
            "image {index}: outline corner"
        );
        assert_eq!(
            pixel(&figure, rect_x + 3, rect_y - 2),
            RED,
            "image {index}: outline top"
        );

        // The magnified crop sits below the image, inside the same column, framed in red.
        let magnified = magnify_rgb(&crop, zoom.factor);
        let zoomed = find_all(&figure, &magnified);
        assert_eq!(
            zoomed.len(),
            1,
            "image {index}: magnified rectangle found at {zoomed:?}"
        );
        let (zoom_x, zoom_y) = zoomed[0];
        assert!(
            zoom_y >= corner.1 + image.height(),
            "image {index}: zoom at y = {zoom_y}"
        );
        assert!(
            zoom_x >= corner.0 && zoom_x + magnified.width() <= corner.0 + image.width(),
            "image {index}"
        );
        assert_eq!(
            pixel(&figure, zoom_x - 1, zoom_y - 1),
            RED,
            "image {index}: zoom frame"
        );
        assert_eq!(
            pixel(&figure, zoom_x + magnified.width(), zoom_y + 5),
            RED,
            "image {index}: zoom frame"
        );
    }

    // Two per row, filled row by row.
    assert_eq!(corners[0].1, corners[1].1, "first row");
    assert!(
        corners[1].0 >= corners[0].0 + 40,
        "second column right of the first"
    );
    assert_eq!(
        corners[2].0, corners[0].0,
        "third image starts the second row"
    );
    assert!(
        corners[2].1 >= corners[0].1 + 30 + 6 * 3,
        "second row below the first row's zoom"
    );

    // Titles are drawn above the first row.
    assert!(
        has_dark_pixel(
            &figure,
            (corners[0].0, 0),
            (corners[0].0 + 40, corners[0].1)
        ),
        "title of image 0"
    );
}

#[test]
fn panel_without_zoom_shows_whole_images() {
    let images = [quantised_image(6, 17, 13, 1), quantised_image(7, 17, 13, 3)];
    let figure = Panel::new(5)
        .add("a", &images[0])
        .add("b", &images[1])
        .render()
        .unwrap();
    for (index, image) in images.iter().enumerate() {
        assert_eq!(find_all(&figure, image).len(), 1, "image {index}");
    }
    assert!(
        pixel(&figure, 0, 0).iter().all(|&value| value == 1.0),
        "white background"
    );
}

#[test]
fn grid_places_rows_and_columns() {
    let images: Vec<Vec<Image>> = (0..2)
        .map(|row| {
            (0..3)
                .map(|column| {
                    quantised_image(10 + row * 3 + column, 24, 20, 1 + 2 * (column % 2) as usize)
                })
                .collect()
        })
        .collect();
    let grid = PanelGrid {
        title: Some("angles against methods".to_string()),
        row_labels: vec!["30 angles".to_string(), "100 angles".to_string()],
        column_labels: vec!["FBP".to_string(), "SIREN".to_string(), "TITAN".to_string()],
        images: images.clone(),
        zoom: Some(Zoom {
            x: 2,
            y: 3,
            width: 5,
            height: 4,
            factor: 4,
        }),
    };
    let figure = grid.render().unwrap();
    let path = scratch_dir("grid").join("grid.png");
    grid.save(&path).unwrap();
    assert_eq!(read_image(&path).unwrap(), figure);

    let mut corners = vec![vec![(0, 0); 3]; 2];
    for (row, row_images) in images.iter().enumerate() {
        for (column, image) in row_images.iter().enumerate() {
            let crop = image.crop(2, 3, 5, 4).unwrap();
            let found = find_all(&figure, &crop);
            assert_eq!(
                found.len(),
                1,
                "row {row} column {column}: found at {found:?}"
            );
            corners[row][column] = (found[0].0 - 2, found[0].1 - 3);
            assert_eq!(
                find_all(&figure, &magnify_rgb(&crop, 4)).len(),
                1,
                "row {row} column {column}: zoom"
            );
        }
    }
    for (row, row_corners) in corners.iter().enumerate() {
        for (column, pair) in row_corners.windows(2).enumerate() {
            assert_eq!(pair[1].1, pair[0].1, "row {row} shares one top edge");
            assert!(
                pair[1].0 > pair[0].0,
                "row {row}: column {} right of column {column}",
                column + 1
            );
        }
    }
    for (column, (top, bottom)) in corners[0].iter().zip(&corners[1]).enumerate() {
        assert_eq!(bottom.0, top.0, "column {column} shares one left edge");
        assert!(
            bottom.1 >= top.1 + 20 + 4 * 4,
            "column {column}: second row below the first zoom"
        );
    }

    let (first_x, first_y) = corners[0][0];
    assert!(
        has_dark_pixel(&figure, (0, first_y), (first_x, first_y + 20)),
        "row label left of row 0"
    );
    assert!(
        has_dark_pixel(
            &figure,
            (0, corners[1][0].1),
            (first_x, corners[1][0].1 + 20)
        ),
        "row label of row 1"
    );
    for (column, &(x, _)) in corners[0].iter().enumerate() {
        let band = ((x, first_y - 26), (x + 24, first_y));
        assert!(
            has_dark_pixel(&figure, band.0, band.1),
            "label of column {column}"
        );
    }
}

#[test]
fn panel_rejects_bad_input() {
    let image = quantised_image(20, 12, 10, 1);
    let other_size = quantised_image(21, 12, 11, 1);

    let error = Panel::new(0).add("a", &image).render().unwrap_err();
    assert!(
        matches!(
            error,
            Error::InvalidArgument {
                name: "columns",
                ..
            }
        ),
        "{error:?}"
    );
    let error = Panel::new(2).render().unwrap_err();
    assert!(
        matches!(error, Error::InvalidArgument { name: "images", .. }),
        "{error:?}"
    );
    let error = Panel::new(2)
        .add("a", &image)
        .add("b", &other_size)
        .render()
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert!(error.to_string().contains("12 x 11"), "{error}");

    // (x, y, width, height, factor) and the argument the error names.
    let zoom_cases = [
        ((8, 0, 5, 5, 2), "rectangle"),
        ((0, 0, 5, 5, 0), "zoom factor"),
        ((0, 0, 5, 5, usize::MAX), "zoom factor"),
        ((0, 0, 5, 5, 4000), "zoom factor"),
    ];
    for ((x, y, width, height, factor), expected) in zoom_cases {
        let error = Panel::new(2)
            .add("a", &image)
            .zoom(x, y, width, height, factor)
            .render()
            .unwrap_err();
        let named = match &error {
            Error::InvalidArgument { name, .. } => *name,
            _ => "",
        };
        assert_eq!(
            named, expected,
            "zoom ({x}, {y}, {width}, {height}) x {factor}: {error}"
        );
    }

    let path = scratch_dir("rejects").join("panel.png");
    assert!(Panel::new(2).save(&path).is_err());
    assert!(!path.exists(), "nothing is written on error");
}

#[test]
fn grid_rejects_label_mismatch() {
    let image = quantised_image(22, 12, 12, 3);
    let mut grid = PanelGrid {
        title: None,
        row_labels: vec!["one".to_string()],
        column_labels: vec!["a".to_string(), "b".to_string()],
        images: vec![
            vec![image.clone(), image.clone()],
            vec![image.clone(), image.clone()],
        ],
        zoom: None,
    };
    let error = grid.render().unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("2 rows of images but 1 row labels"),
        "{error}"
    );

    grid.row_labels.push("two".to_string());
    grid.images[1].pop();
    let error = grid.render().unwrap_err();
    assert!(error.to_string().contains("row 1 has 1 images"), "{error}");

    grid.images[1].push(image.clone());
    assert!(grid.render().is_ok());

    let empty = PanelGrid::default();
    assert!(matches!(
        empty.render(),
        Err(Error::InvalidArgument { name: "images", .. })
    ));
}
