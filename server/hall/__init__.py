"""The program hall: public pages about the agency's programs and the help chatbot over them."""
