# The eastus Batch + Azure Machine Learning prefixes, as people extract them with jq today.
.values[]
| select(.name == "BatchNodeManagement.EastUS" or .name == "AzureMachineLearning.EastUS")
| .properties.addressPrefixes[]
| select(contains(":") | not)
