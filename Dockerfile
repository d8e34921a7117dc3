# Microsoft Entra ID Protection integration: the scheduled fetch job in a container.
#
# The steps are those tests/test_install.py runs on every `make test`: build the wheel from the
# clone (no dependencies), create a fresh venv, install the wheel with its pinned dependencies,
# run the console script. Everything is installed while the image is built; at run time the
# container reaches only Microsoft's login host and Graph, never a package index.
#
#   docker build -t entra-id-protection .
#   docker run -d --name entra-job \
#       -v /etc/entra-id-protection:/etc/entra-id-protection:ro \
#       -v entra-state:/var/lib/entra-id-protection \
#       -e ENTRA_CLIENT_SECRET \
#       entra-id-protection
#   docker exec entra-job entra-id-protection job status --state /var/lib/entra-id-protection/job.db
#   docker run --rm entra-id-protection run "List Risky Users" -i Top=1 --emulator   # smoke test
#
# Exit codes of the default command are explained in deploy/README.md.

FROM python:3.11-slim AS wheel
WORKDIR /src
COPY . .
RUN python -m pip wheel --no-deps --no-cache-dir --wheel-dir /dist .

FROM python:3.11-slim
ENV VIRTUAL_ENV=/opt/entra-id-protection \
    PATH=/opt/entra-id-protection/bin:$PATH \
    PYTHONUNBUFFERED=1
RUN python -m venv /opt/entra-id-protection \
 && useradd --system --user-group --home-dir /var/lib/entra-id-protection --create-home entra
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir --disable-pip-version-check /tmp/dist/*.whl \
 && rm -rf /tmp/dist \
 && entra-id-protection --version
USER entra
WORKDIR /var/lib/entra-id-protection
VOLUME ["/var/lib/entra-id-protection"]
# SIGTERM lets the job finish the page it is on, commit, and exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["entra-id-protection"]
CMD ["job", "start", "--every", "300", \
     "--connection", "/etc/entra-id-protection/connection.yaml", \
     "--state", "/var/lib/entra-id-protection/job.db", \
     "--sink", "/var/lib/entra-id-protection/events.ndjson"]
