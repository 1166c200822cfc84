"""`kubewise doctor` and `kubewise debug-bundle`: evidence gathered from the cluster (kubeconfig), the
platform and the cloud; pure checks that turn it into findings, each with its cause and its fix."""
