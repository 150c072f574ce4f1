"""Payouts: payment orders, batches and their pain.001 files, and the bank's answer.

One module a concern, in the order money moves:

* ``orders`` — the workflow's side: ``schedule_orders`` when a case's payout is scheduled,
  ``settle_for_confirmation`` and ``fail_open_orders`` when it is confirmed paid or failed;
* ``batches`` — a batch's life: create, approve (a second treasurer), export the pain.001
  file, mark sent, cancel before export, or declare an exported file void;
* ``settlement`` — the bank's answer booked: orders paid (voucher 2890/1930) or failed, and
  each case moved on once none of its orders is at the bank (``settle_cases``);
* ``redaction`` — erasure: a person's account and a file's nonce redacted from the bank files;
* ``access`` — ``require_treasurer``.

Reading the bank's files (pain.002, camt.054) is ``accounting.bank_status``; money the bank
moved against our records is ``accounting.bank_exceptions``. Both call ``settlement``.

Lock order everywhere: applications, then orders, then fund, then voucher counter, then the
audit head.
"""
