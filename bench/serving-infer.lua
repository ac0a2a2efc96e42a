-- wrk script for bench/serving.sh: POSTs one V2 infer request (one iris row, FP64,
-- the `predict` output only) to the URL's path. The body is the same for mlpipe's
-- server and MLServer (both take the single input of a scikit-learn model as
-- input-0); wrk counts any status other than 2xx/3xx as "Non-2xx or 3xx responses",
-- which bench/serving.sh treats as a failed run.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input-0","shape":[1,4],"datatype":"FP64","data":[5.1,3.5,1.4,0.2]}],'
    .. '"outputs":[{"name":"predict"}]}'
