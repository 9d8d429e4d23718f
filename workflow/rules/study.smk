# Study-wide rules over every result: the provenance of every result file, and the run's own rule graph.


rule provenance:
    input:
        PROVENANCE_FILES,
    output:
        report(
            f"{RESULTS}/provenance.csv",
            caption="../report/provenance.rst",
            category=PROVENANCE,
        ),
    log:
        f"{RESULTS}/logs/provenance.log",
    localrule: True
    run:
        # thousands of paths in a large study: they reach the CLI through a scratch file
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose provenance --files-from {listing} --out {output} 2> {log}"
            )


rule rulegraph:
    output:
        dot=f"{RESULTS}/figures/rulegraph.dot",
        png=report(
            f"{RESULTS}/figures/rulegraph.png",
            caption="../report/rulegraph.rst",
            category=RULE_GRAPH,
        ),
        pdf=f"{RESULTS}/figures/rulegraph.pdf",
        config=f"{RESULTS}/figures/rulegraph.config.json",
    log:
        f"{RESULTS}/logs/rulegraph.log",
    localrule: True
    conda:
        "../../envs/deeplin.yaml"
    params:
        # The inner `snakemake --rulegraph` gets a stand-in study of this study's shape (graph_stand_in_study),
        # so α, seeds or noise changes never rerun this job.
        config=json.dumps(graph_stand_in_study(), sort_keys=True),
        settings=settings_json({"plots": config["plots"]}),
        python=sys.executable,
        snakefile=workflow.main_snakefile,
        stem=lambda wildcards, output: output.png.removesuffix(".png"),
    shell:
        "echo {params.config:q} > {output.config} && "
        "{params.python} -m snakemake --snakefile {params.snakefile} --configfile {output.config}"
        " --rulegraph --nolock --quiet all 2>> {log}"
        " | deeplin --verbose rulegraph --settings {params.settings:q} --out {params.stem} 2>> {log}"
