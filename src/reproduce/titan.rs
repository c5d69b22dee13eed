//! The TITAN study: x4 super-resolution of the bundled camera image by
//! TITAN, SIREN, a Fourier-feature MLP, the deep decoder and bicubic
//! interpolation ([`crate::pipelines::titan`]), and sparse-view CT of the
//! Shepp-Logan phantom by filtered back-projection and by networks fitted
//! through the Radon transform ([`crate::pipelines::titan_ct`]).

use serde::Serialize;

use super::{decimal, Part, PartOutput, Scale, Section, Study, StudyContext, Table};
use crate::ct::{shepp_logan, FbpFilter, PhantomVariant};
use crate::error::Result;
use crate::imaging::{bundled_image, Image, Panel, PanelGrid};
use crate::pipelines::titan::{super_resolve, NetworkSettings, SrConfig, SrMethod, SrReport};
use crate::pipelines::titan_ct::{reconstruct, CtConfig, CtMethod, CtReport};
use crate::plot;

/// The TITAN study.
pub const STUDY: Study = Study {
    name: "titan",
    title: "TITAN: coordinate networks for super-resolution and CT",
    introduction: "Coordinate networks map a pixel coordinate to a value and can be rendered at any \
                   resolution, but they have no prior for natural images. TITAN feeds sine features of the \
                   coordinate into every layer of a deep-decoder stack, which carries that prior. Here it is \
                   compared at equal iterations with SIREN, a Fourier-feature MLP, the grid-bound deep decoder \
                   and interpolation on x4 super-resolution, and with filtered back-projection on sparse-view CT \
                   of the Shepp-Logan phantom, where every network is fitted through the Radon transform.",
    parts: &[SUPER_RESOLUTION, CT],
    missing: &[],
};

const SUPER_RESOLUTION: Part = Part {
    name: "super_resolution",
    plan: plan_super_resolution,
    run: run_super_resolution,
};

const CT: Part = Part {
    name: "ct",
    plan: plan_ct,
    run: run_ct,
};

/// Image, crop and training settings of the super-resolution part.
#[derive(Debug, Clone, Serialize)]
struct SrSetup {
    /// Side of the square crop of the camera image (its top-left corner
    /// keeps the crop centred horizontally and 40 pixels above centre).
    crop: usize,
    /// The protocol's settings.
    config: SrConfig,
}

fn sr_setup(scale: Scale) -> SrSetup {
    let mut networks = NetworkSettings::quick(1);
    let (crop, iterations, learning_rate, methods) = match scale {
        Scale::Smoke => (
            32,
            10,
            2e-3,
            vec![
                SrMethod::Titan,
                SrMethod::Siren,
                SrMethod::Ffn,
                SrMethod::DeepDecoder,
                SrMethod::Bicubic,
            ],
        ),
        Scale::Quick => (
            96,
            400,
            2e-3,
            vec![
                SrMethod::Titan,
                SrMethod::Siren,
                SrMethod::Bicubic,
                SrMethod::Bilinear,
            ],
        ),
        Scale::Paper => (512, 5000, 1e-3, SrMethod::ALL.to_vec()),
    };
    if scale == Scale::Paper {
        networks = NetworkSettings::paper(1);
    }
    if scale == Scale::Smoke {
        networks.titan.width = 12;
        networks.titan.depth = 3;
        networks.siren.width = 16;
        networks.mlp.width = 16;
        networks.mlp.fourier_features = 16;
        networks.deep_decoder_channels = 8;
    }
    networks.iterations = iterations;
    networks.learning_rate = learning_rate;
    SrSetup {
        crop,
        config: SrConfig {
            scale: 4,
            methods,
            networks,
            lipschitz_grid: Some(if scale == Scale::Paper { 512 } else { 64 }),
        },
    }
}

fn plan_super_resolution(scale: Scale) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(sr_setup(scale)).expect("the setup serialises"))
}

fn camera_crop(side: usize) -> Result<Image> {
    let camera = bundled_image("camera")?;
    let x = (camera.width() - side) / 2;
    let y = ((camera.height() - side) / 2).saturating_sub(40.min((camera.height() - side) / 2));
    camera.crop(x, y, side, side)
}

fn run_super_resolution(context: &mut StudyContext) -> Result<PartOutput> {
    let setup = sr_setup(context.scale);
    let truth = camera_crop(setup.crop)?;
    let total = setup
        .config
        .methods
        .iter()
        .filter(|m| **m != SrMethod::Bicubic && **m != SrMethod::Bilinear)
        .count()
        * setup.config.networks.iterations;
    context.stage(&format!(
        "super-resolution of a {0} x {0} camera crop by 4",
        setup.crop
    ));
    let gpu = context.gpu;
    let mut finished = 0;
    let mut last = (SrMethod::Bicubic, 0);
    let report = super_resolve(gpu, &truth, &setup.config, &mut |method, step, _| {
        if method != last.0 {
            finished += last.1;
            last = (method, 0);
        }
        last.1 = step;
        context.advance(finished + step, total);
    })?;

    let mut section = Section::new("Super-resolution by 4");
    section.paragraph(&format!(
        "A {0} x {0} crop of the camera image is averaged down to {1} x {1}; every network is fitted for {2} \
         full-batch Adam steps (learning rate {3}) on the low-resolution pixel centres and rendered at the \
         full-resolution centres. Scores are PSNR and SSIM against the crop at the final step.",
        setup.crop,
        setup.crop / 4,
        setup.config.networks.iterations,
        setup.config.networks.learning_rate
    ));
    let panel_file = context.figure("sr_panel")?;
    sr_panel(&report).save(&panel_file.path)?;
    let titan = report.results.iter().find(|r| r.method == SrMethod::Titan);
    let bicubic = report
        .results
        .iter()
        .find(|r| r.method == SrMethod::Bicubic);
    let verdict = match (titan, bicubic) {
        (Some(t), Some(b)) if t.psnr > b.psnr => format!(
            "TITAN beats bicubic interpolation by {} dB",
            decimal(t.psnr - b.psnr, 2)
        ),
        (Some(t), Some(b)) => format!(
            "TITAN stays {} dB below bicubic interpolation at this number of steps",
            decimal(b.psnr - t.psnr, 2)
        ),
        _ => "TITAN or bicubic interpolation was not run".to_string(),
    };
    section.figure(
        &panel_file,
        &format!("Ground truth and every method, with a 2x zoom of the centre under each (images smaller than {DISPLAY_SIDE} pixels are magnified); {verdict}."),
    );

    let mut table = Table::new(&[
        "method",
        "PSNR (dB)",
        "SSIM",
        "Lipschitz",
        "parameters",
        "non-zero",
        "seconds",
    ]);
    for r in &report.results {
        table.push(vec![
            r.method.name().to_string(),
            decimal(r.psnr, 2),
            decimal(r.ssim, 4),
            r.lipschitz.map_or("-".to_string(), |l| decimal(l, 1)),
            r.parameters.to_string(),
            r.nonzero_parameters.to_string(),
            decimal(r.seconds, 1),
        ]);
    }
    let table_file = context.table("sr_results")?;
    table.write_csv(&table_file.path)?;
    section.table(
        &table,
        &table_file,
        "PSNR and SSIM against the ground truth, the Lipschitz estimate (largest Jacobian norm over a 64 x 64 grid of \
         coordinates; larger means sharper), trained parameters and training time",
    );

    let curves: Vec<(String, Vec<(f64, f64)>)> = report
        .results
        .iter()
        .filter(|r| !r.losses.is_empty())
        .map(|r| {
            (
                r.method.name().to_string(),
                r.losses
                    .iter()
                    .enumerate()
                    .map(|(i, &l)| ((i + 1) as f64, f64::from(l)))
                    .collect(),
            )
        })
        .collect();
    if !curves.is_empty() {
        let loss_file = context.figure("sr_loss")?;
        plot::line_chart(
            &loss_file.path,
            "Training loss on the low-resolution image",
            "step",
            "mean squared error",
            &curves,
            true,
        )?;
        section.figure(&loss_file, "Training loss: how closely each network fits the low-resolution pixels (a lower loss does not mean a better upscaled image).");
    }
    let results: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| {
            let mut entry = serde_json::json!({"method": r.method.name(), "psnr": r.psnr, "ssim": r.ssim, "parameters": r.parameters, "seconds": r.seconds});
            if let Some(lipschitz) = r.lipschitz {
                entry["lipschitz"] = serde_json::json!(lipschitz);
            }
            entry
        })
        .collect();
    Ok(PartOutput {
        summary: serde_json::json!({"setup": setup, "results": results}),
        section,
    })
}

/// Smallest side at which images are drawn in the report's figures.
const DISPLAY_SIDE: usize = 192;

/// Magnifies a small image by an integer factor (nearest neighbour) so that
/// it is drawn at least `DISPLAY_SIDE` pixels wide; larger images are kept.
fn for_display(image: &Image) -> Image {
    let factor = DISPLAY_SIDE.div_ceil(image.width().max(1)).max(1);
    if factor == 1 {
        return image.clone();
    }
    let (width, height, channels) = (
        image.width() * factor,
        image.height() * factor,
        image.channels(),
    );
    let mut data = Vec::with_capacity(width * height * channels);
    for y in 0..height {
        for x in 0..width {
            for channel in 0..channels {
                data.push(image.get(x / factor, y / factor, channel));
            }
        }
    }
    Image::new(width, height, channels, data).expect("a magnified image keeps valid pixels")
}

fn sr_panel(report: &SrReport) -> Panel {
    let truth = for_display(&report.ground_truth);
    let side = truth.width();
    let zoom = (side / 4).max(4);
    let mut panel = Panel::new(report.results.len() + 1);
    panel.add("ground truth", &truth);
    for r in &report.results {
        panel.add(
            &format!("{} {} dB", r.method.name(), decimal(r.psnr, 2)),
            &for_display(&r.image),
        );
    }
    panel.zoom((side - zoom) / 2, (side - zoom) / 2, zoom, zoom, 2);
    panel
}

/// Phantom and training settings of the CT part.
#[derive(Debug, Clone, Serialize)]
struct CtSetup {
    /// Side of the phantom.
    size: usize,
    /// The protocol's settings.
    config: CtConfig,
}

fn ct_setup(scale: Scale) -> CtSetup {
    let mut networks = NetworkSettings::quick(1);
    let (size, angles, iterations) = match scale {
        Scale::Smoke => (24, vec![6], 10),
        Scale::Quick => (48, vec![8], 300),
        Scale::Paper => (256, vec![20, 50, 100], 5000),
    };
    if scale == Scale::Paper {
        networks = NetworkSettings::paper(1);
    }
    networks.iterations = iterations;
    networks.learning_rate = 5e-3;
    // Lower frequencies than for photographs: with few projection angles a
    // high omega_0 or sigma fits streaks of the under-determined inverse
    // problem (at 48 x 48 and 8 angles, omega_0 = 30 or 10 lost to FBP,
    // omega_0 = 4 and sigma = 1 beat it).
    // NOTE: tuned at 48 x 48 only; the paper-scale 256 x 256 phantom may
    // need higher frequencies.
    networks.siren.omega = 4.0;
    networks.mlp.fourier_scale = 1.0;
    if scale == Scale::Smoke {
        networks.titan.width = 12;
        networks.titan.depth = 3;
        networks.siren.width = 16;
        networks.mlp.width = 16;
        networks.mlp.fourier_features = 16;
    }
    CtSetup {
        size,
        config: CtConfig {
            angle_counts: angles,
            methods: match scale {
                Scale::Quick => vec![
                    CtMethod::Fbp,
                    CtMethod::Network(SrMethod::Ffn),
                    CtMethod::Network(SrMethod::Titan),
                ],
                _ => vec![
                    CtMethod::Fbp,
                    CtMethod::Network(SrMethod::Siren),
                    CtMethod::Network(SrMethod::Ffn),
                    CtMethod::Network(SrMethod::Titan),
                ],
            },
            filter: FbpFilter::Ramp,
            noise_snr_db: None,
            noise_seed: 0,
            networks,
        },
    }
}

fn plan_ct(scale: Scale) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(ct_setup(scale)).expect("the setup serialises"))
}

fn run_ct(context: &mut StudyContext) -> Result<PartOutput> {
    let setup = ct_setup(context.scale);
    let phantom = shepp_logan(setup.size, PhantomVariant::Modified)?;
    let networks = setup
        .config
        .methods
        .iter()
        .filter(|m| **m != CtMethod::Fbp)
        .count();
    let total = setup.config.angle_counts.len() * networks * setup.config.networks.iterations;
    context.stage(&format!(
        "sparse-view CT of a {0} x {0} phantom at {1:?} angles",
        setup.size, setup.config.angle_counts
    ));
    let gpu = context.gpu;
    let mut finished = 0;
    let mut last = (0, CtMethod::Fbp, 0);
    let report = reconstruct(
        gpu,
        setup.size,
        &phantom,
        &setup.config,
        &mut |angles, method, step, _| {
            if (angles, method) != (last.0, last.1) {
                finished += last.2;
                last = (angles, method, 0);
            }
            last.2 = step;
            context.advance(finished + step, total);
        },
    )?;

    let mut section = Section::new("Sparse-view CT");
    section.paragraph(&format!(
        "The Shepp-Logan phantom ({0} x {0}, scikit-image's intensities) is measured by the Radon transform at \
         each number of angles, without noise. Filtered back-projection uses the ramp filter; each network is \
         fitted for {1} Adam steps so that the Radon transform of its image matches the sinogram.",
        setup.size, setup.config.networks.iterations
    ));
    let panel_file = context.figure("ct_panel")?;
    ct_panel(&report, &setup.config).save(&panel_file.path)?;
    let fewest = setup.config.angle_counts.iter().min().copied().unwrap_or(0);
    let best = report
        .results
        .iter()
        .filter(|r| r.angles == fewest && r.method != CtMethod::Fbp)
        .max_by(|a, b| a.psnr.total_cmp(&b.psnr));
    let fbp = report
        .results
        .iter()
        .find(|r| r.angles == fewest && r.method == CtMethod::Fbp);
    let sentence = match (best, fbp) {
        (Some(best), Some(fbp)) => format!(
            "At {fewest} angles the best network is {} at {} dB, against {} dB for filtered back-projection",
            best.method.name(),
            decimal(best.psnr, 2),
            decimal(fbp.psnr, 2)
        ),
        _ => format!("Filtered back-projection and at least one network are needed for a comparison at {fewest} angles"),
    };
    section.figure(
        &panel_file,
        &format!("Reconstructions (rows: angle counts; columns: phantom and methods). {sentence}."),
    );

    let mut table = Table::new(&["angles", "method", "PSNR (dB)", "SSIM", "seconds"]);
    for r in &report.results {
        table.push(vec![
            r.angles.to_string(),
            r.method.name().to_string(),
            decimal(r.psnr, 2),
            decimal(r.ssim, 4),
            decimal(r.seconds, 1),
        ]);
    }
    let table_file = context.table("ct_results")?;
    table.write_csv(&table_file.path)?;
    section.table(&table, &table_file, "PSNR and SSIM against the phantom (reconstructions clamped to [0, 1], zero outside the scanned disc)");
    let results: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| serde_json::json!({"angles": r.angles, "method": r.method.name(), "psnr": r.psnr, "ssim": r.ssim, "seconds": r.seconds}))
        .collect();
    Ok(PartOutput {
        summary: serde_json::json!({"setup": setup, "results": results}),
        section,
    })
}

fn ct_panel(report: &CtReport, config: &CtConfig) -> PanelGrid {
    let mut images = Vec::new();
    for &angles in &config.angle_counts {
        let mut row = vec![for_display(&report.phantom)];
        row.extend(
            report
                .results
                .iter()
                .filter(|r| r.angles == angles)
                .map(|r| for_display(&r.image)),
        );
        images.push(row);
    }
    let mut column_labels = vec!["phantom".to_string()];
    column_labels.extend(config.methods.iter().map(|m| m.name().to_string()));
    PanelGrid {
        title: None,
        row_labels: config
            .angle_counts
            .iter()
            .map(|a| format!("{a} angles"))
            .collect(),
        column_labels,
        images,
        zoom: None,
    }
}
