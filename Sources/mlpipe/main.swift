print("mlpipe")
