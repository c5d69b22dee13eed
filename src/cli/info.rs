//! `maso info`: the adapters found and the one maso would use.

use anyhow::Result;
use clap::Args;

use maso::gpu::{enumerate_adapters, Gpu, GpuOptions};

/// Options of `maso info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Print the report as JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Prints every adapter, then opens the selected one and prints its details.
pub fn run(args: &InfoArgs) -> Result<()> {
    let options = GpuOptions::from_env()?;
    let adapters: Vec<wgpu::AdapterInfo> = enumerate_adapters(options.backends)
        .iter()
        .map(|adapter| adapter.get_info())
        .collect();
    let gpu = Gpu::with_options(&options);

    if args.json {
        let report = serde_json::json!({
            "adapters": adapters.iter().map(adapter_json).collect::<Vec<_>>(),
            "selected": gpu.as_ref().ok().map(selected_json),
            "error": gpu.as_ref().err().map(|error| error.to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&adapters, gpu.as_ref().ok());
    }
    gpu?;
    Ok(())
}

fn print_text(adapters: &[wgpu::AdapterInfo], gpu: Option<&Gpu>) {
    println!("Adapters found: {}", adapters.len());
    for (index, info) in adapters.iter().enumerate() {
        println!(
            "  [{index}] {} | backend {:?} | type {:?} | driver {} {}",
            info.name, info.backend, info.device_type, info.driver, info.driver_info
        );
    }
    let Some(gpu) = gpu else {
        return;
    };
    let info = gpu.info();
    let limits = gpu.limits();
    println!();
    println!(
        "Selected: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );
    println!(
        "  timestamp queries:                  {}",
        yes_no(gpu.supports_timestamps())
    );
    println!(
        "  f64 in shaders:                     {}",
        yes_no(
            gpu.adapter()
                .features()
                .contains(wgpu::Features::SHADER_F64)
        )
    );
    println!(
        "  subgroups:                          {}",
        yes_no(gpu.adapter().features().contains(wgpu::Features::SUBGROUP))
    );
    println!(
        "  max_buffer_size:                    {}",
        format_bytes(limits.max_buffer_size)
    );
    println!(
        "  max_storage_buffer_binding_size:    {}",
        format_bytes(limits.max_storage_buffer_binding_size as u64)
    );
    println!(
        "  max_compute_workgroup_storage_size: {}",
        format_bytes(limits.max_compute_workgroup_storage_size as u64)
    );
    println!(
        "  max_compute_invocations_per_workgroup: {}",
        limits.max_compute_invocations_per_workgroup
    );
    println!(
        "  max_compute_workgroups_per_dimension:  {}",
        limits.max_compute_workgroups_per_dimension
    );
    println!(
        "  max_storage_buffers_per_shader_stage:  {}",
        limits.max_storage_buffers_per_shader_stage
    );
}

fn adapter_json(info: &wgpu::AdapterInfo) -> serde_json::Value {
    serde_json::json!({
        "name": info.name,
        "backend": format!("{:?}", info.backend),
        "device_type": format!("{:?}", info.device_type),
        "driver": info.driver,
        "driver_info": info.driver_info,
        "vendor": info.vendor,
        "device": info.device,
    })
}

fn selected_json(gpu: &Gpu) -> serde_json::Value {
    let limits = gpu.limits();
    let features = gpu.adapter().features();
    serde_json::json!({
        "adapter": adapter_json(gpu.info()),
        "features": {
            "timestamp_query": gpu.supports_timestamps(),
            "shader_f64": features.contains(wgpu::Features::SHADER_F64),
            "subgroup": features.contains(wgpu::Features::SUBGROUP),
        },
        "limits": {
            "max_buffer_size": limits.max_buffer_size,
            "max_storage_buffer_binding_size": limits.max_storage_buffer_binding_size,
            "max_compute_workgroup_storage_size": limits.max_compute_workgroup_storage_size,
            "max_compute_invocations_per_workgroup": limits.max_compute_invocations_per_workgroup,
            "max_compute_workgroups_per_dimension": limits.max_compute_workgroups_per_dimension,
            "max_storage_buffers_per_shader_stage": limits.max_storage_buffers_per_shader_stage,
        },
    })
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

fn format_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    const MIB: f64 = 1024.0 * 1024.0;
    if (bytes as f64) < MIB {
        format!("{bytes} bytes ({:.0} KiB)", bytes as f64 / KIB)
    } else {
        format!("{bytes} bytes ({:.0} MiB)", bytes as f64 / MIB)
    }
}
