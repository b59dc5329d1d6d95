void jobgate_gateway_anchor() {}
