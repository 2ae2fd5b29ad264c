//! A model in memory: its spec, variables and network on a device, and batched prediction.

use std::path::Path;

use anyhow::{Context, bail};
use tch::{Device, Kind, Tensor, nn};

use crate::model::{ModelSpec, Net, build_net};

/// Picks the device: `auto` (CUDA when present, else CPU), `cpu` or `cuda`.
pub fn device(choice: &str) -> anyhow::Result<Device> {
    match choice {
        "auto" => Ok(Device::cuda_if_available()),
        "cpu" => Ok(Device::Cpu),
        "cuda" => {
            if tch::Cuda::is_available() {
                Ok(Device::Cuda(0))
            } else {
                bail!("--device cuda: no CUDA device is available to libtorch")
            }
        }
        other => bail!("unknown device `{other}` (auto, cpu, cuda)"),
    }
}

/// A device's name for reports.
pub fn device_name(d: Device) -> String {
    match d {
        Device::Cpu => "cpu".to_owned(),
        Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}"),
    }
}

/// A loaded model.
#[derive(Debug)]
pub struct Model {
    /// Its spec.
    pub spec: ModelSpec,
    /// Its variables.
    pub vs: nn::VarStore,
    net: Box<dyn Net>,
    device: Device,
}

impl Model {
    /// A fresh (untrained) model of `spec` on `device`.
    pub fn fresh(spec: ModelSpec, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let net = build_net(
            spec.kind,
            &vs.root(),
            spec.inputs.len() as i64,
            spec.window as i64,
            &spec.hyper,
        );
        Self {
            spec,
            vs,
            net,
            device,
        }
    }

    /// Loads `dir` (spec and weights) onto `device`.
    pub fn load(dir: &Path, device: Device) -> anyhow::Result<Self> {
        let spec = ModelSpec::load(dir)?;
        let mut m = Self::fresh(spec, device);
        let w = ModelSpec::weights_path(dir);
        m.vs.load(&w)
            .with_context(|| format!("loading weights {}", w.display()))?;
        Ok(m)
    }

    /// Saves spec and weights into `dir`.
    pub fn save(&self, dir: &Path) -> anyhow::Result<()> {
        self.spec.save(dir)?;
        let w = ModelSpec::weights_path(dir);
        self.vs
            .save(&w)
            .with_context(|| format!("saving weights {}", w.display()))
    }

    /// The device.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Values per window.
    pub fn window_size(&self) -> usize {
        self.spec.window * self.spec.inputs.len()
    }

    /// `windows` (`batch` windows back to back) as a `[batch, window, inputs]` tensor on the
    /// model's device.
    pub fn batch_tensor(&self, windows: &[f32], batch: usize) -> Tensor {
        Tensor::from_slice(windows)
            .view([
                batch as i64,
                self.spec.window as i64,
                self.spec.inputs.len() as i64,
            ])
            .to_device(self.device)
    }

    /// Logits of a batch (training mode switches dropout on).
    pub fn logits(&self, xs: &Tensor, train: bool) -> Tensor {
        self.net.forward_t(xs, train)
    }

    /// Class probabilities (down, flat, up) of `batch` windows, without gradients.
    pub fn predict(&self, windows: &[f32], batch: usize) -> Vec<[f32; 3]> {
        if batch == 0 {
            return Vec::new();
        }
        let probs = tch::no_grad(|| {
            let xs = self.batch_tensor(windows, batch);
            self.logits(&xs, false)
                .softmax(-1, Kind::Float)
                .to_device(Device::Cpu)
        });
        let flat: Vec<f32> = Vec::<f32>::try_from(probs.view([-1])).unwrap_or_default();
        flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect()
    }

    /// The edge (bps) and confidence of one prediction: `(p_up - p_down) * move_scale`, and
    /// the predicted class's probability rescaled from `[1/3, 1]` to `[0, 1]`.
    pub fn edge_of(&self, p: &[f32; 3]) -> (f64, f32) {
        let edge = f64::from(p[2] - p[0]) * f64::from(self.spec.move_scale_bps);
        let top = p[0].max(p[1]).max(p[2]);
        let confidence = ((top - 1.0 / 3.0) * 1.5).clamp(0.0, 1.0);
        (edge, confidence)
    }
}

/// The predicted class (-1, 0, 1) of probabilities (ties go to flat, then down).
pub fn argmax_class(p: &[f32; 3]) -> i8 {
    let mut best = 1;
    for i in [0, 2] {
        if p[i] > p[best] {
            best = i;
        }
    }
    crate::dataset::index_class(best)
}
