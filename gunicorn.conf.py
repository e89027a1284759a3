# Gunicorn settings for Mesa (read automatically when gunicorn starts in this folder).
# The access log leaves out the client address (%(h)s) for every request: people who
# contribute without an account must leave no trace, and the other routes do not need it.
accesslog = "-"
access_log_format = '- - %(t)s "%(r)s" %(s)s %(b)s %(L)ss'
