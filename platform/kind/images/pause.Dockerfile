# The pod sandbox image: one static program, as upstream's pause image.
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
