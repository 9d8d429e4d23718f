# Tables over all simulated points: one tidy row per point, summaries per (model, width, α) with
# confidence intervals, and the gap-vs-width slopes. Flagged points stay in the tables.


rule aggregate:
    input:
        sim_outputs(),
    output:
        simulations=report(
            f"{RESULTS}/tables/simulations.csv",
            caption="../report/simulations.rst",
            category="Tables",
            labels=table_labels("simulations"),
        ),
        summary=report(
            f"{RESULTS}/tables/summary.csv",
            caption="../report/summary.rst",
            category="Tables",
            labels=table_labels("summary"),
        ),
        scaling=report(
            f"{RESULTS}/tables/scaling.csv",
            caption="../report/scaling.rst",
            category="Tables",
            labels=table_labels("scaling"),
        ),
        headline=report(
            f"{RESULTS}/tables/headline.csv",
            caption="../report/headline.rst",
            category="Tables",
            labels=table_labels("headline"),
        ),
        columns=report(
            f"{RESULTS}/tables/columns.csv",
            caption="../report/columns.rst",
            category="Tables",
            labels=table_labels("columns"),
        ),
        # the headline as reStructuredText, included by the report's landing page
        headline_rst=f"{RESULTS}/tables/headline.rst",
        provenance=f"{RESULTS}/tables/provenance.json",
    log:
        f"{RESULTS}/logs/aggregate.log",
    benchmark:
        f"{RESULTS}/benchmarks/aggregate.tsv"
    localrule: True
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        analysis=json.dumps(config["analysis"], sort_keys=True),
        out_dir=lambda wildcards, output: Path(output.simulations).parent,
    run:
        # one path per point: a large study's list reaches the CLI through a scratch file, not the command line
        with tempfile.TemporaryDirectory() as scratch:
            listing = write_listing(input, scratch)
            shell(
                "deeplin --verbose aggregate --metrics-from {listing} --analysis {params.analysis:q}"
                " --out-dir {params.out_dir} 2> {log}"
            )


# Every result file's provenance (package version, git commit, config hash, device) in one table for the report.
rule provenance:
    input:
        provenance_inputs(),
    output:
        report(
            f"{RESULTS}/provenance.csv",
            caption="../report/provenance.rst",
            category="Provenance",
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
