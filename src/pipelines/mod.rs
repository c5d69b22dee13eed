//! Research pipelines: each is a function from a configuration to a result
//! struct, with no printing inside.

pub mod mad;
pub mod mad_ddpm;
pub mod mask;
pub mod nftk;
pub mod titan;
pub mod titan_ct;
