"""Integrations of the runtime into frameworks: ``tsilstm.integrations.torch`` (torch.nn modules,
``convert`` and the registered operators). Each imports its framework; the rest of the package
never imports them."""
