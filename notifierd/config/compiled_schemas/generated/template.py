"""Whether a document is valid against schemas/template.schema.json (generated; do not
edit: python -m notifierd.config.compiled_schemas.generate)."""
# ruff: noqa
# mypy: ignore-errors
SCHEMA_DIGEST = "533f139ad30fb69a592994f0e5909836b9332de9f0b0822ad9b15681d1b9d8e3"
VERSION = "2.22.3"
from decimal import Decimal
class JsonSchemaValueException(ValueError): pass
class JsonSchemaValuesException(ValueError): pass


NoneType = type(None)

def validate_https___notifierd_dev_schemas_template_schema_json(data, custom_formats={}, name_prefix=None):
    if not isinstance(data, (dict)):
        raise JsonSchemaValueException("")
    data_is_dict = isinstance(data, dict)
    if data_is_dict:
        data__missing_keys = set(['subject', 'text']) - data.keys()
        if data__missing_keys:
            raise JsonSchemaValueException("")
        data_keys = set(data.keys())
        if "description" in data_keys:
            data_keys.remove("description")
            data__description = data["description"]
            if not isinstance(data__description, (str)):
                raise JsonSchemaValueException("")
        if "category" in data_keys:
            data_keys.remove("category")
            data__category = data["category"]
            if not isinstance(data__category, (str)):
                raise JsonSchemaValueException("")
        if "variables" in data_keys:
            data_keys.remove("variables")
            data__variables = data["variables"]
            if not isinstance(data__variables, (dict)):
                raise JsonSchemaValueException("")
        if "examples" in data_keys:
            data_keys.remove("examples")
            data__examples = data["examples"]
            if not isinstance(data__examples, (list, tuple)):
                raise JsonSchemaValueException("")
            data__examples_is_list = isinstance(data__examples, (list, tuple))
            if data__examples_is_list:
                data__examples_len = len(data__examples)
                for data__examples_x, data__examples_item in enumerate(data__examples):
                    if not isinstance(data__examples_item, (dict)):
                        raise JsonSchemaValueException("")
        if "subject" in data_keys:
            data_keys.remove("subject")
            data__subject = data["subject"]
            if not isinstance(data__subject, (str)):
                raise JsonSchemaValueException("")
            if isinstance(data__subject, str):
                data__subject_len = len(data__subject)
                if data__subject_len < 1:
                    raise JsonSchemaValueException("")
        if "text" in data_keys:
            data_keys.remove("text")
            data__text = data["text"]
            if not isinstance(data__text, (str)):
                raise JsonSchemaValueException("")
        if "slack" in data_keys:
            data_keys.remove("slack")
            data__slack = data["slack"]
            if not isinstance(data__slack, (list, tuple)):
                raise JsonSchemaValueException("")
            data__slack_is_list = isinstance(data__slack, (list, tuple))
            if data__slack_is_list:
                data__slack_len = len(data__slack)
                if data__slack_len < 1:
                    raise JsonSchemaValueException("")
                if data__slack_len > 50:
                    raise JsonSchemaValueException("")
                for data__slack_x, data__slack_item in enumerate(data__slack):
                    if not isinstance(data__slack_item, (dict)):
                        raise JsonSchemaValueException("")
                    data__slack_item_is_dict = isinstance(data__slack_item, dict)
                    if data__slack_item_is_dict:
                        data__slack_item__missing_keys = set(['type']) - data__slack_item.keys()
                        if data__slack_item__missing_keys:
                            raise JsonSchemaValueException("")
        if "html" in data_keys:
            data_keys.remove("html")
            data__html = data["html"]
            if not isinstance(data__html, (str)):
                raise JsonSchemaValueException("")
        if "teams" in data_keys:
            data_keys.remove("teams")
            data__teams = data["teams"]
            if not isinstance(data__teams, (dict)):
                raise JsonSchemaValueException("")
            data__teams_is_dict = isinstance(data__teams, dict)
            if data__teams_is_dict:
                data__teams__missing_keys = set(['type', 'body']) - data__teams.keys()
                if data__teams__missing_keys:
                    raise JsonSchemaValueException("")
                data__teams_keys = set(data__teams.keys())
                if "type" in data__teams_keys:
                    data__teams_keys.remove("type")
                    data__teams__type = data__teams["type"]
                    if not (isinstance(data__teams__type, str) and data__teams__type == 'AdaptiveCard'):
                        raise JsonSchemaValueException("")
                if "body" in data__teams_keys:
                    data__teams_keys.remove("body")
                    data__teams__body = data__teams["body"]
                    if not isinstance(data__teams__body, (list, tuple)):
                        raise JsonSchemaValueException("")
        if data_keys:
            raise JsonSchemaValueException("")
    return data
validate = validate_https___notifierd_dev_schemas_template_schema_json
