//! The Radon transform and its adjoint on the GPU (`shaders/radon.wgsl`).

use std::sync::Arc;

use bytemuck::{Pod, Zeroable};

use crate::ct::geometry::{check_finite, check_len, invalid, RadonGeometry};
use crate::error::Result;
use crate::gpu::{Gpu, GpuBuffer, Kernel, Recorder};
use crate::shaders;

/// Workgroup width of `radon_forward` (one invocation per detector bin).
const FORWARD_WORKGROUP: usize = 64;
/// Workgroup side of `radon_adjoint` (one invocation per pixel).
const ADJOINT_WORKGROUP: usize = 16;

#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
pub(crate) struct RadonParams {
    size: u32,
    detectors: u32,
    samples: u32,
    angles: u32,
    image_center: f32,
    detector_center: f32,
    sample_center: f32,
    padding: f32,
}

/// The parallel-beam Radon transform A of one geometry, with its exact
/// transpose A^T, ready to record on the GPU.
///
/// A is the linear map of scikit-image's `radon(image, theta, circle=True)`
/// (bilinear rotation about pixel (size / 2, size / 2), then column sums;
/// the formula is in `shaders/radon.wgsl` and [`crate::ct::reference`]).
/// Images are row-major `size` x `size`; sinograms are row-major
/// `angles` x `detectors`, one projection contiguous. Unlike
/// scikit-image's `circle=True`, nothing is cropped or masked: pixels
/// outside the inscribed circle contribute to the projections where their
/// rays hit detectors.
#[derive(Debug)]
pub struct Radon {
    geometry: RadonGeometry,
    forward_kernel: Arc<Kernel>,
    adjoint_kernel: Arc<Kernel>,
    cos_sin: GpuBuffer<[f32; 2]>,
    params: wgpu::Buffer,
}

impl Radon {
    /// Validates `geometry`, compiles the kernels and uploads the angle table.
    pub fn new(gpu: &Gpu, geometry: RadonGeometry) -> Result<Radon> {
        geometry.validate()?;
        check_dispatch_limits(gpu, &geometry)?;
        gpu.check_storage_size("Radon image", geometry.image_len() as u64 * 4)?;
        gpu.check_storage_size("Radon sinogram", geometry.sinogram_len() as u64 * 4)?;

        let forward_kernel = gpu.kernel(&shaders::RADON, "radon_forward", &[])?;
        let adjoint_kernel = gpu.kernel(&shaders::RADON, "radon_adjoint", &[])?;
        let cos_sin = gpu.upload(&geometry.cos_sin(), "Radon angles (cos, sin)")?;
        let params = gpu.create_uniform(&radon_params(&geometry), "Radon parameters")?;
        Ok(Radon {
            geometry,
            forward_kernel,
            adjoint_kernel,
            cos_sin,
            params,
        })
    }

    /// Returns the geometry this transform was built for.
    pub fn geometry(&self) -> &RadonGeometry {
        &self.geometry
    }

    /// Records `sinogram = A image`.
    ///
    /// NaN or infinite pixels are not detected on the GPU; they propagate
    /// into every projection whose rays cross them.
    pub fn forward(
        &self,
        recorder: &mut Recorder,
        image: &GpuBuffer<f32>,
        sinogram: &GpuBuffer<f32>,
    ) -> Result<()> {
        self.check_buffers("Radon forward", image, sinogram)?;
        let workgroups = [
            self.geometry.detectors.div_ceil(FORWARD_WORKGROUP) as u32,
            self.geometry.angle_count() as u32,
            1,
        ];
        recorder.dispatch(
            &self.forward_kernel,
            &[
                (0, image.raw()),
                (1, sinogram.raw()),
                (2, self.cos_sin.raw()),
                (3, &self.params),
            ],
            workgroups,
            "radon_forward",
        )
    }

    /// Records `image = A^T sinogram` (unfiltered back-projection by the
    /// exact transpose of [`Radon::forward`]).
    pub fn adjoint(
        &self,
        recorder: &mut Recorder,
        sinogram: &GpuBuffer<f32>,
        image: &GpuBuffer<f32>,
    ) -> Result<()> {
        self.check_buffers("Radon adjoint", image, sinogram)?;
        let side = self.geometry.size.div_ceil(ADJOINT_WORKGROUP) as u32;
        recorder.dispatch(
            &self.adjoint_kernel,
            &[
                (4, sinogram.raw()),
                (5, image.raw()),
                (2, self.cos_sin.raw()),
                (3, &self.params),
            ],
            [side, side, 1],
            "radon_adjoint",
        )
    }

    /// Uploads `image`, applies A and returns the sinogram (angles x detectors).
    pub fn forward_host(&self, gpu: &Gpu, image: &[f32]) -> Result<Vec<f32>> {
        let geometry = &self.geometry;
        check_len(
            "Radon forward",
            "the image",
            image.len(),
            geometry.image_len(),
            &image_shape(geometry),
        )?;
        check_finite("image pixel", image)?;

        let image = gpu.upload(image, "Radon image")?;
        let sinogram = gpu.create_buffer::<f32>(geometry.sinogram_len(), "Radon sinogram")?;
        let mut recorder = gpu.recorder("Radon forward");
        self.forward(&mut recorder, &image, &sinogram)?;
        recorder.submit()?;
        gpu.read(&sinogram)
    }

    /// Uploads `sinogram` (angles x detectors), applies A^T and returns the image.
    pub fn adjoint_host(&self, gpu: &Gpu, sinogram: &[f32]) -> Result<Vec<f32>> {
        let geometry = &self.geometry;
        check_len(
            "Radon adjoint",
            "the sinogram",
            sinogram.len(),
            geometry.sinogram_len(),
            &sinogram_shape(geometry),
        )?;
        check_finite("sinogram value", sinogram)?;

        let sinogram = gpu.upload(sinogram, "Radon sinogram")?;
        let image = gpu.create_buffer::<f32>(geometry.image_len(), "Radon image")?;
        let mut recorder = gpu.recorder("Radon adjoint");
        self.adjoint(&mut recorder, &sinogram, &image)?;
        recorder.submit()?;
        gpu.read(&image)
    }

    fn check_buffers(
        &self,
        operation: &'static str,
        image: &GpuBuffer<f32>,
        sinogram: &GpuBuffer<f32>,
    ) -> Result<()> {
        let geometry = &self.geometry;
        check_len(
            operation,
            &format!("image buffer {:?}", image.label()),
            image.len(),
            geometry.image_len(),
            &image_shape(geometry),
        )?;
        check_len(
            operation,
            &format!("sinogram buffer {:?}", sinogram.label()),
            sinogram.len(),
            geometry.sinogram_len(),
            &sinogram_shape(geometry),
        )
    }
}

pub(crate) fn image_shape(geometry: &RadonGeometry) -> String {
    format!("{0} x {0} pixels", geometry.size)
}

pub(crate) fn sinogram_shape(geometry: &RadonGeometry) -> String {
    format!(
        "{} angles x {} detectors",
        geometry.angle_count(),
        geometry.detectors
    )
}

fn radon_params(geometry: &RadonGeometry) -> RadonParams {
    RadonParams {
        size: geometry.size as u32,
        detectors: geometry.detectors as u32,
        samples: geometry.ray_samples() as u32,
        angles: geometry.angle_count() as u32,
        image_center: (geometry.size / 2) as f32,
        detector_center: (geometry.detectors / 2) as f32,
        sample_center: (geometry.ray_samples() / 2) as f32,
        padding: 0.0,
    }
}

/// Rejects geometries whose dispatches would exceed the adapter's
/// workgroup-count limit (angles form the y dimension of the forward grid).
pub(crate) fn check_dispatch_limits(gpu: &Gpu, geometry: &RadonGeometry) -> Result<()> {
    let limit = gpu.limits().max_compute_workgroups_per_dimension as usize;
    if geometry.angle_count() > limit {
        return Err(invalid(
            "number of angles",
            &geometry.angle_count().to_string(),
            &format!("at most {limit} on this adapter; split the angles into several geometries"),
        ));
    }
    let largest = geometry
        .detectors
        .div_ceil(FORWARD_WORKGROUP)
        .max(geometry.size.div_ceil(ADJOINT_WORKGROUP));
    if largest > limit {
        return Err(invalid(
            "image size or detectors",
            &format!("{} and {}", geometry.size, geometry.detectors),
            &format!("sizes that need at most {limit} workgroups per dimension on this adapter"),
        ));
    }
    Ok(())
}
