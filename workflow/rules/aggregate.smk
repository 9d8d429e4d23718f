# Tables over all simulated points (SPEC §2.3): one tidy row per point, summaries per (model, width, α) with
# confidence intervals, and the gap-vs-width slopes. Flagged points stay in the tables (issue #4).


rule aggregate:
    input:
        sim_outputs(),
    output:
        simulations=report(
            "results/tables/simulations.csv",
            caption="../report/simulations.rst",
            category="Tables",
        ),
        summary=report(
            "results/tables/summary.csv", caption="../report/summary.rst", category="Tables"
        ),
        scaling=report(
            "results/tables/scaling.csv", caption="../report/scaling.rst", category="Tables"
        ),
        provenance="results/tables/provenance.json",
    params:
        analysis=json.dumps(config["analysis"], sort_keys=True),
    log:
        "results/logs/aggregate.log",
    benchmark:
        "results/benchmarks/aggregate.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "deeplin --verbose aggregate --metrics {input} --analysis {params.analysis:q}"
        " --out-dir results/tables 2> {log}"


# Every result file's provenance (package version, git commit, config hash, device) in one table for the report.
rule provenance:
    input:
        provenance_inputs(),
    output:
        report("results/provenance.csv", caption="../report/provenance.rst", category="Provenance"),
    log:
        "results/logs/provenance.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    shell:
        "deeplin --verbose provenance --files {input} --out {output} 2> {log}"
