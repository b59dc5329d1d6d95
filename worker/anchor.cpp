void jobgate_worker_anchor() {}
