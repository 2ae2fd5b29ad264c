//! The three networks: shapes, probabilities, edges; and the CUDA path where a GPU exists
//! (skipped, saying so, where none does).

use kestrel_ml::model::spec::{FORMAT, TrainingReport, VERSION, model_id};
use kestrel_ml::model::{Hyper, ModelKind, ModelSpec, Normalisation};
use kestrel_ml::runtime::{Model, argmax_class};
use kestrel_strategy::sidecar::feature_names;
use tch::Device;

fn spec(kind: ModelKind, window: usize) -> ModelSpec {
    let schema = feature_names();
    let n = schema.len();
    ModelSpec {
        format: FORMAT.to_owned(),
        version: VERSION,
        kind,
        model_id: model_id(kind, window, &schema),
        model_version: 1,
        window,
        schema,
        inputs: kind.inputs(),
        normalisation: Normalisation {
            mean: vec![0.0; n],
            std: vec![1.0; n],
            clip: 5.0,
        },
        horizon: 50,
        dead_band_bps: 0.3,
        move_scale_bps: 2.0,
        train_class_counts: [3, 5, 4],
        hyper: Hyper::for_kind(kind),
        dataset: String::new(),
        training: TrainingReport::default(),
    }
}

fn windows(m: &Model, batch: usize) -> Vec<f32> {
    (0..batch * m.window_size())
        .map(|i| ((i * 31 % 17) as f32 - 8.0) / 4.0)
        .collect()
}

#[test]
fn every_model_gives_probabilities_for_a_batch() {
    tch::manual_seed(3);
    for kind in [ModelKind::Lstm, ModelKind::Deeplob, ModelKind::Transformer] {
        let m = Model::fresh(spec(kind, 20), Device::Cpu);
        assert_eq!(
            m.spec.inputs.len(),
            if kind == ModelKind::Deeplob { 40 } else { 61 }
        );
        let b = 5;
        let x = windows(&m, b);
        let p = m.predict(&x, b);
        assert_eq!(p.len(), b, "{kind:?}");
        for q in &p {
            let s: f32 = q.iter().sum();
            assert!((s - 1.0).abs() < 1e-4, "{kind:?} {q:?}");
            let (edge, conf) = m.edge_of(q);
            assert!((edge - f64::from(q[2] - q[0]) * 2.0).abs() < 1e-6);
            assert!((0.0..=1.0).contains(&conf));
            assert!([-1, 0, 1].contains(&argmax_class(q)));
        }
        // The same window alone gives the same probabilities (no batch coupling).
        let one = m.predict(&x[..m.window_size()], 1);
        for k in 0..3 {
            assert!((one[0][k] - p[0][k]).abs() < 1e-5, "{kind:?}");
        }
        assert!(m.predict(&[], 0).is_empty());
    }
    assert_eq!(spec(ModelKind::Lstm, 1).majority_class(), 0);
}

#[test]
fn cuda_inference_matches_cpu_where_a_gpu_exists() {
    if !tch::Cuda::is_available() {
        eprintln!("skipped: no CUDA device visible to libtorch on this machine");
        return;
    }
    for kind in [ModelKind::Lstm, ModelKind::Deeplob, ModelKind::Transformer] {
        tch::manual_seed(5);
        let cpu = Model::fresh(spec(kind, 30), Device::Cpu);
        let dir = tempfile::tempdir().unwrap();
        cpu.save(dir.path()).unwrap();
        let gpu = Model::load(dir.path(), Device::Cuda(0)).unwrap();
        let x = windows(&cpu, 64);
        let a = cpu.predict(&x, 64);
        let b = gpu.predict(&x, 64);
        for (p, q) in a.iter().zip(&b) {
            for k in 0..3 {
                assert!((p[k] - q[k]).abs() < 1e-3, "{kind:?}: cpu {p:?} cuda {q:?}");
            }
        }
    }
}
