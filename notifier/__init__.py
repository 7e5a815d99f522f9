"""Away e-mail notifications (the outbound half; reply-by-email in notifier.inbound).

Builds on ``chat_service`` (which records pending notifications in
``chat_service.notifications``). Modules:

* :mod:`notifier.app` the Celery app factory; :mod:`notifier.worker` its entry
  module; :mod:`notifier.tasks` thin tasks; :mod:`notifier.runtime` the event
  loop and services of one worker process
* :mod:`notifier.delivery` claim -> gate -> render -> send -> mark, the
  at-most-once design; :mod:`notifier.gate` the final re-checks at due time
* :mod:`notifier.compose`, :mod:`notifier.render`, :mod:`notifier.mail` the
  email itself (templates in ``notifier/templates``)
* :mod:`notifier.smtp` sending with ``aiosmtplib`` and classifying failures
* :mod:`notifier.config`, :mod:`notifier.errors`, :mod:`notifier.types`,
  :mod:`notifier.wiring`
"""
