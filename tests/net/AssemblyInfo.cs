// Real clusters share two cores with each other and with the other test assemblies; running these
// classes one at a time keeps quorum latencies far below the request timeout, so failures mean bugs.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
