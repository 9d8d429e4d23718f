# Asymptotic theory per model: layer coefficients and the equivalent GLM's Bayes-optimal curve.


rule theory:
    output:
        coefficients=f"{RESULTS}/theory/{{model}}/coefficients.json",
        curve=f"{RESULTS}/theory/{{model}}/curve.csv",
    log:
        f"{RESULTS}/logs/theory/{{model}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/theory/{{model}}.tsv"
    localrule: True
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
        alpha_min=config["theory"]["alpha_min"],
        alpha_max=config["theory"]["alpha_max"],
        alpha_num=config["theory"]["alpha_num"],
        spacing=config["theory"]["spacing"],
        scan_points=config["theory"]["scan_points"],
    shell:
        "deeplin --verbose theory --activation {params.activation} --depth {params.depth}"
        " --readout {params.readout} --noise {params.noise}"
        " --alpha-grid {params.alpha_min} {params.alpha_max} {params.alpha_num}"
        " --spacing {params.spacing} --scan-points {params.scan_points}"
        " --out {output.curve} --coefficients {output.coefficients} 2> {log}"
