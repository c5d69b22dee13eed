//! NNGP and NTK against neural-tangents 0.6.5 in float64: 52 networks
//! (ReLU and erf, depths 1 to 10, both parameterizations, with, without and
//! with zero bias, symmetric and rectangular inputs). The fixtures and their
//! generator are in tests/fixtures/ntk and scripts/fixtures/make_ntk_fixtures.py.
//!
//! Tolerance: 1e-5 relative to the largest |entry| of each matrix. The GPU
//! works in f32 from inputs rounded to f32; on llvmpipe the largest error
//! over these cases is 4.5e-7 (erf, standard parameterization, depth 10).

mod common;

use std::path::PathBuf;

use common::gpu;
use maso::io::npy;
use maso::kernels::ntk::{
    compute_ntk_gram, Activation, GramOptions, Inputs, MemorySink, NtkConfig, Parameterization,
};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ntk")
}

fn load(name: &str) -> (Vec<f32>, Vec<usize>) {
    let array = npy::read_f64(fixture_dir().join(name)).unwrap();
    (array.data.iter().map(|&v| v as f32).collect(), array.shape)
}

#[test]
fn kernels_match_neural_tangents() {
    let text = std::fs::read_to_string(fixture_dir().join("cases.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 52);

    let mut worst = (0.0f64, String::new());
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let config = NtkConfig {
            depth: case["depth"].as_u64().unwrap() as usize,
            activation: Activation::parse(case["activation"].as_str().unwrap()).unwrap(),
            w_std: case["w_std"].as_f64().unwrap(),
            b_std: case["b_std"].as_f64(),
            parameterization: Parameterization::parse(case["parameterization"].as_str().unwrap())
                .unwrap(),
            width: case["width"].as_u64().unwrap() as usize,
        };
        let x1_name = case["x1"].as_str().unwrap();
        let x2_name = case["x2"].as_str().unwrap();
        let (x1, x1_shape) = load(x1_name);
        let (x2, x2_shape) = load(x2_name);
        let inputs1 = Inputs::new(&x1, x1_shape[0], x1_shape[1], "x1").unwrap();
        let inputs2 = Inputs::new(&x2, x2_shape[0], x2_shape[1], "x2").unwrap();
        // A case whose x2 is x1 exercises the symmetric path.
        let x2_option = if x1_name == x2_name {
            None
        } else {
            Some(&inputs2)
        };

        let mut sink = MemorySink::new(2, inputs1.count, inputs2.count);
        compute_ntk_gram(
            gpu(),
            &config,
            &inputs1,
            x2_option,
            &GramOptions::default(),
            &mut sink,
            &mut |_, _| {},
        )
        .unwrap();

        for (component, key) in ["nngp", "ntk"].iter().enumerate() {
            let expected = npy::read_f64(fixture_dir().join(case[*key].as_str().unwrap()))
                .unwrap()
                .data;
            let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (index, (&got, &want)) in
                sink.components[component].iter().zip(&expected).enumerate()
            {
                let error = (f64::from(got) - want).abs() / scale;
                assert!(error <= 1e-5, "{id} {key}: entry {index} is {got}, neural-tangents gives {want} (error {error:e} of the largest entry)");
                if error > worst.0 {
                    worst = (error, format!("{id} {key}"));
                }
            }
        }
    }
    eprintln!(
        "largest error against neural-tangents: {:.2e} ({})",
        worst.0, worst.1
    );
}
