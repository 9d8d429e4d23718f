# Finite-width simulations (docs/science.md, 'Finite-size simulations'): one job per point for the data,
# the deep posterior and the GLM twin, plus a light merge. Paths encode (model, d0, α, seed) so new grid
# points add jobs only.


rule simulate_data:
    output:
        f"{POINT}/data.npz",
    log:
        f"{POINT}/data.log",
    benchmark:
        f"{POINT}/data.benchmark.tsv"
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        activation=model_param("activation"),
        depth=model_param("depth"),
        readout=model_param("readout"),
        noise=model_param("noise"),
        width_ratios=lambda wc: " ".join(
            map(str, config["models"][wc.model]["width_ratios"])
        ),
        test_size=SIM["test_size"],
    shell:
        "deeplin --verbose simulate-data --model-name {wildcards.model} --activation {params.activation}"
        " --depth {params.depth} --readout {params.readout} --noise {params.noise}"
        " --width-ratios {params.width_ratios} --width {wildcards.width} --alpha {wildcards.alpha}"
        " --seed {wildcards.seed} --test-size {params.test_size} --out {output} 2> {log}"


rule deep_posterior:
    input:
        f"{POINT}/data.npz",
    output:
        metrics=f"{POINT}/posterior.json",
        summary=f"{POINT}/posterior_summary.npz",
    log:
        f"{POINT}/posterior.log",
    benchmark:
        f"{POINT}/posterior.benchmark.tsv"
    conda:
        "../../envs/deeplin-cuda.yaml" if SAMPLER["gpus"] else "../../envs/deeplin.yaml"
    threads: 1
    resources:
        **posterior_gpu_resources(),
        mem_mb=4000,
        runtime=120,
        # how, not what: the checkpoint interval changes no number, so it is a resource (resources never
        # trigger reruns; params would)
        checkpoint_seconds=str(SAMPLER["checkpoint_seconds"]),
    params:
        chains=SAMPLER["chains"],
        warmup=SAMPLER["warmup"],
        samples=SAMPLER["samples"],
        thin=SAMPLER["thin"],
        leapfrog_steps=SAMPLER["leapfrog_steps"],
        target_accept=SAMPLER["target_accept"],
        dtype=SAMPLER["dtype"],
        device=SAMPLER["device"],
        max_divergent_fraction=SAMPLER["max_divergent_fraction"],
        divergence_retries=SAMPLER["divergence_retries"],
        # the thresholds of the point's one diagnostics verdict, recorded in posterior.json
        verdict=json.dumps(VERDICT, sort_keys=True),
        checkpoint=f"{POINT}/posterior.checkpoint.pt",
    shell:
        "deeplin --verbose sample-posterior --data {input} --chains {params.chains}"
        " --warmup {params.warmup} --samples {params.samples} --thin {params.thin}"
        " --leapfrog-steps {params.leapfrog_steps} --target-accept {params.target_accept}"
        " --dtype {params.dtype} --device {params.device} --threads {threads}"
        " --max-divergent-fraction {params.max_divergent_fraction}"
        " --divergence-retries {params.divergence_retries} --analysis {params.verdict:q}"
        # The checkpoint is no output: Snakemake would delete it before rerunning a killed job.
        " --checkpoint {params.checkpoint} --checkpoint-seconds {resources.checkpoint_seconds}"
        " --out {output.metrics} --summary-out {output.summary} 2> {log}"


rule glm_twin:
    input:
        f"{POINT}/data.npz",
    output:
        f"{POINT}/glm_twin.json",
    log:
        f"{POINT}/glm_twin.log",
    benchmark:
        f"{POINT}/glm_twin.benchmark.tsv"
    conda:
        "../../envs/deeplin.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "deeplin --verbose glm-twin --data {input} --out {output} 2> {log}"


rule point_metrics:
    input:
        data=f"{POINT}/data.npz",
        posterior=f"{POINT}/posterior.json",
        twin=f"{POINT}/glm_twin.json",
    output:
        f"{POINT}/metrics.json",
    log:
        f"{POINT}/metrics.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "deeplin merge-metrics --data {input.data} --posterior {input.posterior}"
        " --glm-twin {input.twin} --out {output} 2> {log}"
